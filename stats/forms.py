"""Forms of the figures import."""

from django import forms

from .spreadsheets import FORMATS, max_bytes


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
    """An empty form: the CSRF token is what matters."""
