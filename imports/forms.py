from django import forms
from django.template.defaultfilters import filesizeformat

from .models import MAX_UPLOAD_BYTES, ImportKind


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text=(
            f"A Trials CSV or a FHIR R4 bundle (JSON) as TRD Tracker exports them; at "
            f"most {filesizeformat(MAX_UPLOAD_BYTES)}. Nothing is saved until you "
            "confirm the preview."
        ),
    )
    kind = forms.ChoiceField(
        choices=[("", "Work it out from the file"), *ImportKind.choices],
        required=False,
        label="Format",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {filesizeformat(MAX_UPLOAD_BYTES)}; split it."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload

    def read(self) -> bytes:
        upload = self.cleaned_data["file"]
        upload.seek(0)
        return upload.read(MAX_UPLOAD_BYTES + 1)
