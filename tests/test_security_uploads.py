"""Uploads: size limits, allowed types, and documents never served as something that runs."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection

pytestmark = pytest.mark.django_db

Document = get_document_model()
Image = get_image_model()
SCRIPT = b"<script>alert(1)</script>"


def png_upload():
    return SimpleUploadedFile("picture.png", get_test_image_file().file.getvalue(), "image/png")


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "x" * 16)
    client.force_login(user)
    return client


@pytest.fixture
def files_on_disk(settings, tmp_path):
    """Store files on disk as in production (the test settings keep them in memory)."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def make_document(name, content=SCRIPT):
    doc = Document(title=name, file=ContentFile(content, name=name))
    doc.save()
    return doc


@pytest.mark.parametrize(
    "name,content_type",
    [
        ("notes.txt", "text/plain"),
        ("figures.csv", "text/csv"),
        ("notes", "application/octet-stream"),
    ],
)
def test_documents_are_downloads_that_cannot_run(client, files_on_disk, name, content_type):
    doc = make_document(name)
    response = client.get(doc.url)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == content_type
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert b"".join(response.streaming_content) == SCRIPT


def test_pdf_opens_in_the_browser_but_sandboxed(client, files_on_disk):
    doc = make_document("report.pdf", b"%PDF-1.4\n%%EOF\n")
    response = client.get(doc.url)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"


def _add_document(admin_client, name, content):
    return admin_client.post(
        reverse("wagtaildocs:add"),
        {
            "title": name,
            "file": SimpleUploadedFile(name, content),
            "collection": Collection.get_first_root_node().id,
        },
    )


@pytest.mark.parametrize("name", ["page.html", "page.htm", "drawing.svg", "tool.js", "x.exe"])
def test_documents_that_browsers_run_are_refused(admin_client, name):
    response = _add_document(admin_client, name, SCRIPT)
    assert response.status_code == 200  # the form again, with its error
    assert "File extension" in response.content.decode()
    assert not Document.objects.exists()


def test_allowed_document_is_accepted(admin_client):
    response = _add_document(admin_client, "notes.txt", b"plain words")
    assert response.status_code == 302
    assert Document.objects.count() == 1


@override_settings(WAGTAILDOCS_MAX_UPLOAD_SIZE=1024)
def test_document_size_limit(admin_client):
    response = _add_document(admin_client, "big.pdf", b"%PDF" + b"0" * 2048)
    assert response.status_code == 200
    assert "This file is too big" in response.content.decode()
    assert not Document.objects.exists()


def _add_image(admin_client, upload):
    return admin_client.post(
        reverse("wagtailimages:add"),
        {"title": "Picture", "file": upload, "collection": Collection.get_first_root_node().id},
    )


def test_svg_images_are_refused(admin_client):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = _add_image(admin_client, SimpleUploadedFile("logo.svg", svg, "image/svg+xml"))
    assert response.status_code == 200
    assert not Image.objects.exists()


def test_png_image_is_accepted(admin_client):
    response = _add_image(admin_client, png_upload())
    assert response.status_code == 302
    assert Image.objects.count() == 1


@override_settings(WAGTAILIMAGES_MAX_UPLOAD_SIZE=100)
def test_image_size_limit(admin_client):
    response = _add_image(admin_client, png_upload())
    assert response.status_code == 200
    assert "This file is too big" in response.content.decode()
    assert not Image.objects.exists()


def test_settings_name_the_limits(settings):
    assert settings.WAGTAILDOCS_SERVE_METHOD == "serve_view"
    assert settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE == 10 * 1024 * 1024
    assert settings.WAGTAILDOCS_MAX_UPLOAD_SIZE == 20 * 1024 * 1024
    assert settings.STATS_IMPORT_MAX_BYTES == 10 * 1024 * 1024
    assert settings.PORTAL_MAX_REQUEST_BYTES >= max(
        settings.WAGTAILDOCS_MAX_UPLOAD_SIZE,
        settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE,
        settings.STATS_IMPORT_MAX_BYTES,
    )
    assert "svg" not in settings.WAGTAILIMAGES_EXTENSIONS


def test_oversized_request_is_refused_before_it_is_read(admin_client, settings):
    settings.PORTAL_MAX_REQUEST_BYTES = 1000
    response = admin_client.post(
        reverse("wagtaildocs:add"),
        {"title": "x", "file": SimpleUploadedFile("notes.txt", b"0" * 5000)},
    )
    assert response.status_code == 413
    assert "camera=()" in response["Permissions-Policy"]
    assert not Document.objects.exists()
    # A request under the cap goes through to the view.
    assert admin_client.get(reverse("wagtaildocs:index")).status_code == 200
