"""What every export writer shares: how patients appear in it, and the error shown as it is."""

import hashlib
import hmac


class ExportError(Exception):
    """A failure to show the user as it is (no traceback needed)."""


class Identity:
    """How patients appear in one export: as recorded, or de-identified with a pseudonym."""

    def __init__(self, job):
        self.deidentify = bool(job.options.get("deidentify"))
        self._key = job.secret.encode()
        # Every patient written is labelled here, so this is what the export contains
        # (reports.services records it in the audit trail).
        self.included = getattr(job, "patients_included", None)

    def pseudonym(self, patient_id: int) -> str:
        return hmac.new(self._key, str(patient_id).encode(), hashlib.sha256).hexdigest()[:10]

    def label(self, patient) -> str:
        if self.included is not None:
            self.included.add(patient.pk)
        return self.pseudonym(patient.pk) if self.deidentify else patient.identifier

    def birth(self, patient) -> str:
        if self.deidentify:
            return str(patient.date_of_birth.year)
        return patient.date_of_birth.isoformat()
