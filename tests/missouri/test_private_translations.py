"""A page made private, or unpublished, in English is so in Spanish too: a view restriction
and a withdrawal are facts of the page, mirrored on its translations (pages/privacy.py), so no
language serves what another withdrew."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from wagtail.models import Locale, Page, PageViewRestriction

pytestmark = pytest.mark.django_db


def _get_help(language):
    english = Page.objects.get(slug="get-help", locale__language_code="en")
    if language == "en":
        return english
    return english.get_translation(Locale.objects.get(language_code=language))


def test_a_password_on_the_english_page_protects_its_spanish_translation(missouri_site):
    spanish_url = _get_help("es").url
    assert b"obtener" in Client().get(spanish_url).content.lower()
    restriction = PageViewRestriction.objects.create(
        page=_get_help("en"), restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )
    copies = PageViewRestriction.objects.filter(page=_get_help("es"))
    assert [(r.restriction_type, r.password) for r in copies] == [("password", "s3cret")]
    response = Client().get(spanish_url)
    assert response.status_code == 200
    assert b'name="password"' in response.content

    restriction.restriction_type = PageViewRestriction.LOGIN
    restriction.save()
    assert [
        r.restriction_type for r in PageViewRestriction.objects.filter(page=_get_help("es"))
    ] == ["login"]
    restriction.delete()
    assert not PageViewRestriction.objects.filter(page=_get_help("es")).exists()
    assert Client().get(spanish_url).status_code == 200
    assert b'name="password"' not in Client().get(spanish_url).content


def test_groups_of_a_restriction_follow_to_the_translation(missouri_site):
    group = Group.objects.create(name="Reviewers of drafts")
    restriction = PageViewRestriction.objects.create(
        page=_get_help("en"), restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(group)
    (copy,) = PageViewRestriction.objects.filter(page=_get_help("es"))
    assert copy.restriction_type == "groups"
    assert list(copy.groups.all()) == [group]


def test_a_restriction_set_on_a_translation_stays_with_that_translation(missouri_site):
    PageViewRestriction.objects.create(page=_get_help("es"), restriction_type="login")
    assert not PageViewRestriction.objects.filter(page=_get_help("en")).exists()
    assert PageViewRestriction.objects.filter(page=_get_help("es")).count() == 1


def test_an_english_page_unpublished_takes_its_translations_with_it(missouri_site):
    spanish_url = _get_help("es").url
    assert Client().get(spanish_url).status_code == 200
    _get_help("en").unpublish()
    assert not _get_help("es").live
    assert Client().get(spanish_url).status_code == 404
    _get_help("en").specific.save_revision().publish()
    assert not _get_help("es").live  # published again by its own editor, when it is current


def test_a_translation_unpublished_leaves_the_english_page_live(missouri_site):
    _get_help("es").unpublish()
    assert _get_help("en").live
