"""Forms of the figures import."""

from django import forms
from django.utils import timezone

from stats.exchange import FORMATS, max_bytes


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        help_text=(
            "A CSV (UTF-8) or Excel (.xlsx) file in the exchange format, up to "
            f"{max_bytes() // (1024 * 1024)} MB. Nothing is saved until you confirm the preview."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if extension not in FORMATS:
            raise forms.ValidationError(
                f'"{upload.name}" is not a CSV or Excel (.xlsx) file. Save the sheet as '
                "CSV UTF-8 or as an Excel workbook and try again."
            )
        if upload.size > max_bytes():
            raise forms.ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; the limit is "
                f"{max_bytes() / (1024 * 1024):.1f} MB. Split it into smaller files."
            )
        return upload


class ConfirmImportForm(forms.Form):
    """Confirm a preview: at once, or at a go-live date and time (a scheduled release)."""

    go_live_at = forms.DateTimeField(
        label="Go live at (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
    )
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=2000,
        help_text=(
            'Why these figures change (e.g. "the source corrected its 2021 table"): recorded on '
            "every change of this import and shown in the public revisions log."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read in the zone Wagtail's admin activates (the user's profile, else the install's
        # UTC): named, so a release is not set hours early.
        zone = timezone.get_current_timezone_name()
        self.fields["go_live_at"].label = f"Go live at, {zone} time (optional)"
        self.fields["go_live_at"].help_text = (
            f"Leave empty to import now. Or give a date and time in {zone} time (e.g. "
            "2027-07-01 09:00): until then visitors see the values they see today."
        )

    def clean_go_live_at(self):
        value = self.cleaned_data.get("go_live_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(
                "The go-live time has passed; leave it empty to import now, or give a later time."
            )
        return value
