"""A translation holds words only: a snippet's phone, links, codes and order live once, on the
English item, and every language shows them; the pages cost as many queries in Spanish."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import Locale

from resources.models import Hotline, Statute
from tests.missouri import test_spanish

# A request to /es/ leaves Spanish active in the thread: English again after each test.
_english_after_each_test = test_spanish._english_after_each_test

TIPLINE = "Missouri Attorney General Trafficking Tipline"


def tipline(language="en"):
    return Hotline.objects.get(
        translation_key=Hotline.objects.get(name=TIPLINE).translation_key,
        locale__language_code=language,
    )


def edit_data(hotline, **changes):
    """The admin edit form's fields for a hotline, as an editor would post them to publish."""
    fields = [
        "name", "scope", "phone", "text_number", "chat_url", "relay", "hours", "languages",
        "description", "confidentiality", "source_name", "source_url", "sort_order",
    ]  # fmt: skip
    data = {name: getattr(hotline, name) for name in fields}
    data["checked_on"] = hotline.checked_on.isoformat() if hotline.checked_on else ""
    data["site"] = hotline.site_id
    data.update(changes, **{"action-publish": "action-publish"})
    return data


@pytest.fixture
def superuser_client(client):
    user = get_user_model().objects.create_superuser("facts", "facts@example.org", "pw")
    client.force_login(user)
    return client


def publish_in_admin(client, hotline, **changes):
    url = reverse("wagtailsnippets_resources_hotline:edit", args=[hotline.pk])
    response = client.post(url, edit_data(hotline, **changes))
    assert response.status_code == 302, response.content.decode()[:2000]


def header_tel_links(html):
    bar = html.split('class="hotline-bar"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'href="(tel:[^"]+)"', bar)


def test_the_english_tipline_phone_is_dialled_in_every_language(
    missouri_site, superuser_client, client
):
    english = tipline("en")
    assert tipline("es").phone == english.phone
    publish_in_admin(superuser_client, english, phone="573-555-0142")
    client.logout()
    for path in ("/", "/es/", "/get-help/", "/es/obtener-ayuda/"):
        html = client.get(path).content.decode()
        assert "tel:+15735550142" in header_tel_links(html), path
        assert "tel:+15735550142" in html.split('class="site-footer"')[0], path
        assert english.tel_link not in html, path
    assert tipline("es").phone == "573-555-0142"
    assert tipline("es").name != TIPLINE  # its words are its own


def test_a_translation_cannot_change_a_fact(missouri_site, superuser_client):
    spanish = tipline("es")
    form = superuser_client.get(
        reverse("wagtailsnippets_resources_hotline:edit", args=[spanish.pk])
    )
    phone_input = re.search(r'<input[^>]*name="phone"[^>]*>', form.content.decode()).group(0)
    assert "disabled" in phone_input
    publish_in_admin(
        superuser_client, spanish, phone="000-000-0000", description="Otra descripción."
    )
    spanish.refresh_from_db()
    assert spanish.phone == tipline("en").phone
    assert spanish.description == "Otra descripción."


def test_an_older_spanish_revision_published_later_keeps_the_new_phone(missouri_site):
    spanish = tipline("es")
    old_revision = spanish.save_revision()
    english = tipline("en")
    english.phone = "573-555-0199"
    english.save_revision().publish()
    old_revision.publish()
    assert tipline("es").phone == "573-555-0199"


def test_align_translations_reports_and_fixes_drift(missouri_site, capsys):
    Hotline.objects.filter(pk=tipline("es").pk).update(phone="111-111-1111")
    call_command("align_translations")
    out = capsys.readouterr().out
    assert "phone '111-111-1111' -> " in out and "1 translation(s) aligned" in out
    assert tipline("es").phone == tipline("en").phone
    call_command("align_translations")
    assert "0 translation(s) aligned" in capsys.readouterr().out


def test_a_withdrawn_english_item_is_not_listed_in_spanish(missouri_site, client):
    spanish_locale = Locale.objects.get(language_code="es")
    english = Statute.objects.filter(locale__language_code="en", live=True).first()
    spanish = english.copy_for_translation(spanish_locale)
    spanish.title = "Título en español de prueba"
    spanish.save()
    spanish.save_revision().publish()
    cache.clear()
    assert "Título en español de prueba" in client.get("/es/leyes/").content.decode()
    english.unpublish()
    cache.clear()
    assert "Título en español de prueba" not in client.get("/es/leyes/").content.decode()


# What a Spanish page costs against its English page: tests/missouri/test_query_counts.py.


def test_the_embed_of_a_spanish_page_is_in_spanish(missouri_site, client):
    html = client.get("/es/procesos-federales/").content.decode()
    embeds = re.findall(r'href="(/embed/\d+/[0-9a-f-]+/)"', html)
    assert embeds
    response = client.get(embeds[0])
    embed = response.content.decode()
    assert response["Content-Language"] == "es"
    assert '<html lang="es">' in embed
    assert test_spanish.english_left(embed) == []
    assert "Del " in embed.split('class="embed__from"')[1][:40]
    english = client.get("/federal-prosecutions/").content.decode()
    english_embed = client.get(re.findall(r'href="(/embed/\d+/[0-9a-f-]+/)"', english)[0])
    assert '<html lang="en">' in english_embed.content.decode()


def test_a_restatement_in_spanish_names_the_edition_in_spanish():
    from decimal import Decimal
    from types import SimpleNamespace

    from django.utils import translation

    from stats.display.shaping import restatement

    def observation(value, year):
        source = SimpleNamespace(edition=f"{year} edition", edition_year=year)
        return SimpleNamespace(value=Decimal(value), source=source, replaced=[])

    newer, older = observation(170, 2019), observation(171, 2018)
    newer.metric, newer.period_label, newer.replaced = (
        SimpleNamespace(unit="count"),
        "2018",
        [older],
    )
    with translation.override("es"):
        text = str(restatement(newer))
    assert text == "2018: la edición de 2019 publica 170; la edición de 2018 publicó 171"
    assert "2019 edition" in str(restatement(newer))


def test_the_out_of_date_report_lists_a_translation_whose_english_changed(
    missouri_site, superuser_client
):
    from wagtail.models import Page

    url = reverse("out_of_date_translations")
    english_page = Page.objects.get(slug="get-help").specific
    spanish_page = english_page.get_translation(Locale.objects.get(language_code="es"))
    before = superuser_client.get(url).content.decode()
    assert "Obtener ayuda" not in before and TIPLINE not in before

    english_page.intro = english_page.intro + "<p>An editor's new sentence.</p>"
    english_page.save_revision().publish()
    publish_in_admin(
        superuser_client, tipline("en"), description="A new description of the tipline."
    )
    html = superuser_client.get(url).content.decode()
    assert spanish_page.title in html
    assert reverse("wagtailadmin_pages:edit", args=[spanish_page.pk]) in html
    assert reverse("wagtailadmin_pages:edit", args=[english_page.pk]) in html
    spanish_tipline = tipline("es")
    assert str(spanish_tipline) in html
    assert reverse("wagtailsnippets_resources_hotline:edit", args=[spanish_tipline.pk]) in html

    notice = superuser_client.get(spanish_page.url).content.decode()
    assert '<p class="translation-notice">La versión en inglés de esta página cambió el ' in notice
    assert "translation-notice" not in superuser_client.get(english_page.url).content.decode()

    spanish_page.save_revision().publish()  # translated again: no longer listed
    assert (
        reverse("wagtailadmin_pages:edit", args=[spanish_page.pk])
        not in superuser_client.get(url).content.decode()
    )


def test_the_spanish_pages_say_what_the_english_says(missouri_site, client):
    home = client.get("/es/").content.decode()
    assert "Es confidencial" not in home and "dónde obtener ayuda" in home
    assert "intérpretes" not in client.get("/es/obtener-ayuda/").content.decode()
    profile = client.get("/es/perfil-del-estado/").content.decode()
    assert "no representan el número real de casos identificados o procesados" in profile
    assert '<span lang="en">“Types of Calls to the National Human Trafficking Hotline' in profile
    hotline = client.get("/es/estadisticas-de-la-linea-de-ayuda/").content.decode()
    assert "puede hacer que muchos casos no se informen" in hotline
    assert "pueden ayudar a entender en parte" in hotline
