"""Import jobs: upload, preview (nothing saved), confirm (records created through the services,
one transaction, audited).

Idempotency comes from matching what exists: a patient by record number (case-insensitive, as
Patient's uniqueness rule), a trial by (patient, drug, start date), a score by (patient, scale,
date, total). A record already present is listed as such and never created again.
"""

import hashlib
import logging
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from accounts.access import PracticeScope
from audit.models import Action
from audit.services import record_event
from core.dates import today
from core.queue import task_named
from patients import services as patient_services
from patients.models import Patient
from patients.scope import PatientScope
from reports.fhir import codes
from treatments import selectors
from treatments import services as treatment_services
from treatments.models import Drug, ScaleScore, Trial, validate_dose_changes

from . import parsing
from .models import ImportJob, ImportKind, ImportStatus, live_progress_key

logger = logging.getLogger(__name__)

QUEUE_DOWN = (
    "The import queue is unreachable, so this file could not be read. Nothing was "
    "saved; please try again in a few minutes."
)
PREVIEW_LIMIT = 200  # rows of each table the page shows; the counts cover all of them


class ImportQueueUnavailable(Exception):
    pass


class NotReady(Exception):
    """Confirm asked of a job whose preview is not ready (or that ran already)."""


# --- Upload --------------------------------------------------------------------------------


@transaction.atomic
def import_request(
    *, scope: PracticeScope, data: bytes, filename: str, kind: str | None = None
) -> ImportJob:
    """Store the upload, audit it, and queue its preview once the transaction commits."""
    kind = kind or parsing.sniff_kind(data, filename)
    job = ImportJob.objects.create(
        practice=scope.practice,
        created_by=scope.user,
        kind=ImportKind(kind),
        filename=filename[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        ip=scope.ip,
    )
    job.file.save(
        f"import-{job.pk}.{'json' if kind == ImportKind.FHIR else 'csv'}",
        ContentFile(data),
        save=True,
    )
    record_event(
        actor=scope.user,
        practice_id=scope.practice_id,
        action=Action.CREATE,
        obj=job,
        ip=scope.ip,
        details={
            "event": "import uploaded",
            "kind": kind,
            "sha256": job.sha256,
            "bytes": len(data),
        },
    )
    transaction.on_commit(lambda: _enqueue(job.pk, "preview"))
    return job


STEP_TASKS = {
    "preview": "imports.tasks.import_preview_task",
    "confirm": "imports.tasks.import_confirm_task",
}


def _enqueue(job_id: int, step: str) -> None:
    job = ImportJob.objects.get(pk=job_id)
    attempt = job.attempts + 1
    ImportJob.objects.filter(pk=job_id).update(attempts=attempt)
    task = task_named(STEP_TASKS[step])
    try:
        task.delay(job_id, attempt)
    except (KombuOperationalError, OSError) as error:
        logger.error("Import %s could not be queued: %s", job_id, error)
        ImportJob.objects.filter(pk=job_id, attempts=attempt).update(
            status=ImportStatus.FAILED, error=QUEUE_DOWN, finished_at=timezone.now()
        )
        raise ImportQueueUnavailable(QUEUE_DOWN) from error


def _claim(job_id: int, attempt: int | None, before, during) -> ImportJob | None:
    """Move the job from `before` to `during` for this attempt; None when another attempt (or
    a re-delivered message) owns it."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return None
    attempt = job.attempts if attempt is None else attempt
    if not ImportJob.objects.filter(pk=job_id, attempts=attempt, status__in=before).update(
        status=during, progress=0, error=""
    ):
        return None
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, error=message, finished_at=timezone.now()
    )


# --- Preview -------------------------------------------------------------------------------


def import_preview(job_id: int, attempt: int | None = None) -> ImportJob | None:
    """Read the file and work out what a confirm would create. Saves nothing but the job."""
    job = _claim(
        job_id, attempt, (ImportStatus.PENDING, ImportStatus.PREVIEWING), ImportStatus.PREVIEWING
    )
    if job is None:
        return ImportJob.objects.filter(pk=job_id).first()

    def progress(done, total):
        value = min(90, done * 90 // total) if total else 90
        ImportJob.objects.filter(pk=job.pk).update(progress=value)

    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        if job.kind == ImportKind.FHIR:
            diagnoses = {d["text"].lower(): key for key, d in codes()["diagnoses"].items()}
            parsed = parsing.parse_fhir(data, diagnoses, progress)
        else:
            parsed = parsing.parse_csv(data, progress)
        preview = build_preview(job.practice_id, parsed)
    except parsing.ImportFileError as error:
        _fail(job, str(error))
    except Exception as error:
        logger.exception("Import %s preview failed", job.pk)
        _fail(job, f"The file could not be read ({type(error).__name__}).")
    else:
        ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PREVIEWING).update(
            status=ImportStatus.READY, progress=100, preview=preview
        )
    # The confirm works from the preview: the uploaded file (patient data) is not kept.
    job.file.delete(save=False)
    ImportJob.objects.filter(pk=job.pk).update(file="")
    job.refresh_from_db()
    return job


def rxnorm_drugs() -> dict[str, Drug]:
    """RxNorm ingredient code -> catalog drug (the FHIR export's codes, reversed)."""
    by_name = {drug.name: drug for drug in Drug.objects.all()}
    return {
        code: by_name[name] for name, code in codes()["rxnorm"]["codes"].items() if name in by_name
    }


def match_drug(record: dict, by_rxnorm: dict, by_name: dict | None = None) -> Drug:
    """By RxNorm code, then by generic or brand name (`by_name` caches the names looked up)."""
    if record.get("rxnorm") and record["rxnorm"] in by_rxnorm:
        return by_rxnorm[record["rxnorm"]]
    text = record.get("drug_text") or ""
    by_name = {} if by_name is None else by_name
    if text.lower() not in by_name:
        by_name[text.lower()] = selectors.resolve_drug(text)
    drug = by_name[text.lower()]
    if drug is None:
        code = f" (RxNorm {record['rxnorm']})" if record.get("rxnorm") else ""
        raise parsing.RowError(
            f"the drug {record.get('drug_text')!r}{code} matches no drug in the catalog by "
            "RxNorm code, generic or brand name"
        )
    return drug


def csv_dose_changes(record: dict, drug: Drug) -> list[list[str]]:
    """The trials CSV gives the starting and the highest dose and the days at an adequate dose:
    one change to the highest dose, dated so those days come out the same."""
    if not record.get("max_dose_mg"):
        return []
    start_dose, highest = Decimal(record["dose_mg"]), Decimal(record["max_dose_mg"])
    if highest <= start_dose:
        return []
    start = date.fromisoformat(record["start_date"])
    last = date.fromisoformat(record["end_date"]) if record["end_date"] else today()
    minimum = drug.min_adequate_dose_mg
    days = record.get("days_at_adequate_dose") or 0
    if minimum is not None and start_dose < minimum <= highest and days:
        day = min(last, today()) - timedelta(days=days)
    else:
        day = start + (last - start) / 2
    day = max(day, start + timedelta(days=1))
    if day > last:
        return []
    return [[day.isoformat(), str(highest)]]


def _check_trial(record: dict, drug: Drug, born: str) -> None:
    trial = Trial(
        drug=drug,
        start_date=date.fromisoformat(record["start_date"]),
        end_date=(date.fromisoformat(record["end_date"]) if record["end_date"] else None),
        dose_mg=Decimal(record["dose_mg"]),
        adherence=record["adherence"],
        outcome=record["outcome"],
    )
    try:
        trial.full_clean(exclude=["patient"], validate_constraints=False)
    except ValidationError as error:
        raise parsing.RowError(_reason(error)) from None
    if record["start_date"] < born:
        raise parsing.RowError("the trial starts before the patient's date of birth")
    changes = [(date.fromisoformat(d), Decimal(v)) for d, v in record["dose_changes"]]
    errors = validate_dose_changes(trial, changes)
    if errors:
        raise parsing.RowError("; ".join(errors[i] for i in sorted(errors)))


def _reason(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def build_preview(practice_id: int, parsed: parsing.ParsedFile) -> dict:
    """What a confirm would create, what is already present, what cannot be used and why."""
    existing = {
        p.identifier.strip().lower(): p
        for p in Patient.objects.active()
        .filter(practice_id=practice_id)
        .annotate(key=Lower("identifier"))
        .filter(key__in=[k for k in parsed.patients])
    }
    unmatched = list(parsed.unmatched)
    patients, usable = [], {}
    for key, record in parsed.patients.items():
        found = existing.get(key)
        if found and found.date_of_birth.isoformat() != record["date_of_birth"]:
            unmatched.append(
                {
                    "row": record["row"],
                    "reason": (
                        f"record number {record['identifier']!r} exists with another date of birth"
                    ),
                }
            )
            record["refused"] = True
            continue
        if not found:
            try:
                Patient(
                    practice_id=practice_id,
                    identifier=record["identifier"],
                    date_of_birth=date.fromisoformat(record["date_of_birth"]),
                    diagnosis=record["diagnosis"] or "unknown",
                ).full_clean(exclude=["practice"], validate_constraints=False)
            except ValidationError as error:
                unmatched.append({"row": record["row"], "reason": _reason(error)})
                record["refused"] = True
                continue
        if found:  # as recorded here
            record = {**record, "identifier": found.identifier, "diagnosis": found.diagnosis}
        patients.append(
            {
                **record,
                "diagnosis": record["diagnosis"] or "unknown",
                "status": "present" if found else "create",
                "patient_id": found.pk if found else None,
            }
        )
        usable[key] = patients[-1]
    present_ids = {key: existing[key].pk for key in usable if key in existing}
    trial_keys = set(
        Trial.objects.active()
        .filter(patient_id__in=present_ids.values())
        .values_list("patient_id", "drug_id", "start_date")
    )
    score_keys = set(
        ScaleScore.objects.active()
        .filter(patient_id__in=present_ids.values())
        .values_list("patient_id", "scale", "date", "total")
    )
    by_rxnorm, by_name = rxnorm_drugs(), {}
    trials, seen = [], set()
    for record in parsed.trials:
        patient = usable.get(record["patient"])
        if patient is None:
            unmatched.append(
                {"row": record["row"], "reason": "its patient cannot be imported (see that row)"}
            )
            continue
        try:
            drug = match_drug(record, by_rxnorm, by_name)
            if "max_dose_mg" in record:
                record["dose_changes"] = csv_dose_changes(record, drug)
            _check_trial(record, drug, patient["date_of_birth"])
        except parsing.RowError as error:
            unmatched.append({"row": record["row"], "reason": str(error)})
            continue
        key = (record["patient"], drug.pk, record["start_date"])
        pk = present_ids.get(record["patient"])
        present = (
            key in seen or (pk, drug.pk, date.fromisoformat(record["start_date"])) in trial_keys
        )
        seen.add(key)
        trials.append(
            {
                "row": record["row"],
                "patient": patient["identifier"],
                "drug_id": drug.pk,
                "drug": drug.name,
                "start_date": record["start_date"],
                "end_date": record["end_date"],
                "dose_mg": record["dose_mg"],
                "dose_changes": record["dose_changes"],
                "adherence": record["adherence"],
                "outcome": record["outcome"],
                "status": "present" if present else "create",
            }
        )
    scores = []
    for record in parsed.scores:
        patient = usable.get(record["patient"])
        if patient is None:
            unmatched.append(
                {"row": record["row"], "reason": "its patient cannot be imported (see that row)"}
            )
            continue
        if record["date"] < patient["date_of_birth"] or record["date"] > today().isoformat():
            unmatched.append(
                {
                    "row": record["row"],
                    "reason": "the score's date is before birth or in the future",
                }
            )
            continue
        key = (record["patient"], record["scale"], record["date"], record["total"])
        pk = present_ids.get(record["patient"])
        present = (
            key in seen
            or (pk, record["scale"], date.fromisoformat(record["date"]), record["total"])
            in score_keys
        )
        seen.add(key)
        scores.append(
            {
                **record,
                "patient": patient["identifier"],
                "status": "present" if present else "create",
            }
        )

    def count(rows):
        return {
            "create": sum(r["status"] == "create" for r in rows),
            "present": sum(r["status"] == "present" for r in rows),
        }

    unmatched.sort(key=_row_order)
    return {
        "counts": {
            "patients": count(patients),
            "trials": count(trials),
            "scores": count(scores),
            "unmatched": len(unmatched),
        },
        "patients": patients,
        "trials": trials,
        "scores": scores,
        "unmatched": unmatched,
    }


def _row_order(row: dict) -> int:
    """ "line 12" or "entry 12 (Observation)": by the number, as the file reads."""
    number = row["row"].split(" ")[1] if " " in row["row"] else ""
    return int(number) if number.isdigit() else 0


# --- Confirm -------------------------------------------------------------------------------


def import_confirm_request(*, job: ImportJob, user, ip=None) -> ImportJob:
    """Queue the creation of a ready job's records; NotReady otherwise."""
    with transaction.atomic():
        moved = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.READY).update(
            status=ImportStatus.CONFIRMING, progress=0
        )
        if not moved:
            raise NotReady(
                f"This import is {job.get_status_display().lower()}, not ready to confirm."
            )
        record_event(
            actor=user,
            practice_id=job.practice_id,
            action=Action.CREATE,
            obj=job,
            ip=ip,
            details={"event": "import confirmed", "id": job.pk},
        )
        ImportJob.objects.filter(pk=job.pk).update(created_by=user, ip=ip)
        transaction.on_commit(lambda: _enqueue(job.pk, "confirm"))
    job.refresh_from_db()
    return job


def import_confirm(job_id: int, attempt: int | None = None) -> ImportJob | None:
    """Create the previewed records through the services, all in one transaction; a record
    present by now (another import, a second confirm) is skipped."""
    job = _claim(job_id, attempt, (ImportStatus.CONFIRMING,), ImportStatus.CONFIRMING)
    if job is None:
        return ImportJob.objects.filter(pk=job_id).first()
    try:
        with transaction.atomic():
            result = _create_records(job)
            record_event(
                actor=job.created_by,
                practice_id=job.practice_id,
                action=Action.CREATE,
                obj=job,
                ip=job.ip,
                details={"event": "import finished", "id": job.pk, **result},
            )
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.DONE, progress=100, result=result, finished_at=timezone.now()
            )
    except Exception as error:
        logger.exception("Import %s confirm failed", job.pk)
        reason = _reason(error) if isinstance(error, ValidationError) else type(error).__name__
        _fail(job, f"Nothing was imported: a record could not be created ({reason}).")
    job.refresh_from_db()
    return job


def _create_records(job: ImportJob) -> dict:
    preview = job.preview
    practice_scope = PracticeScope(job.created_by, job.practice, job.ip)
    created = {"patients": 0, "trials": 0, "scores": 0}
    patients = {}
    for record in preview["patients"]:
        key = record["identifier"].lower()
        found = (
            Patient.objects.active()
            .select_for_update()
            .annotate(key=Lower("identifier"))
            .filter(practice_id=job.practice_id, key=key)
            .first()
        )
        if found is None:
            onset = record.get("episode_start")
            found = patient_services.patient_create(
                scope=practice_scope,
                patient=Patient(
                    identifier=record["identifier"],
                    date_of_birth=date.fromisoformat(record["date_of_birth"]),
                    diagnosis=record["diagnosis"],
                    episode_start=date.fromisoformat(onset) if onset else None,
                ),
            )
            created["patients"] += 1
        patients[key] = found
    total = len(preview["trials"]) + len(preview["scores"]) or 1
    done = 0
    for record in preview["trials"]:
        done += 1
        patient = patients[record["patient"].lower()]
        start = date.fromisoformat(record["start_date"])
        if (
            Trial.objects.active()
            .filter(patient=patient, drug_id=record["drug_id"], start_date=start)
            .exists()
        ):
            continue
        trial = Trial(
            drug_id=record["drug_id"],
            start_date=start,
            end_date=date.fromisoformat(record["end_date"]) if record["end_date"] else None,
            dose_mg=Decimal(record["dose_mg"]),
            adherence=record["adherence"],
            outcome=record["outcome"],
        )
        treatment_services.trial_create(
            scope=PatientScope(job.created_by, patient, ip=job.ip),
            trial=trial,
            dose_changes=[(date.fromisoformat(d), Decimal(v)) for d, v in record["dose_changes"]],
        )
        created["trials"] += 1
        _progress(job, done, total)
    for record in preview["scores"]:
        done += 1
        patient = patients[record["patient"].lower()]
        day = date.fromisoformat(record["date"])
        if (
            ScaleScore.objects.active()
            .filter(patient=patient, scale=record["scale"], date=day, total=record["total"])
            .exists()
        ):
            continue
        treatment_services.score_create(
            scope=PatientScope(job.created_by, patient, ip=job.ip),
            score=ScaleScore(
                scale=record["scale"], date=day, total=record["total"], items=record["items"]
            ),
        )
        created["scores"] += 1
        _progress(job, done, total)
    return created


def _progress(job: ImportJob, done: int, total: int) -> None:
    if done % 500 == 0:
        # Outside the import's transaction the row's progress is not seen until commit;
        # readers see the cache's copy meanwhile (ImportJob.live_progress).
        value = min(99, done * 100 // total)
        ImportJob.objects.filter(pk=job.pk).update(progress=value)
        cache.set(live_progress_key(job.pk), value, 6 * 60 * 60)
