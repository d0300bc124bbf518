"""The two staff groups, kept in code so every installation grants the same rights.

ensure_groups() runs after every `migrate` (see PortalConfig.ready). It only adds what is
missing: rights an administrator grants by hand in Settings > Groups are left alone.

- Editors: use the admin; add, edit, publish and translate pages anywhere in the tree; add,
  edit, publish and translate the resources lists; add and choose images and documents; view
  (not change) the statistics.
- Data managers: all of that, plus add, change and delete statistics, view import records
  and import spreadsheets (stats.import_observation).
"""

from django.apps import apps
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS
from wagtail.admin.models import Admin
from wagtail.contrib.simple_translation.models import SimpleTranslation
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

from resources.models import SNIPPET_MODELS

EDITORS = "Editors"
DATA_MANAGERS = "Data managers"

PAGE_ACTIONS = ("add", "change", "publish")
RESOURCE_MODELS = tuple(model.__name__ for model in SNIPPET_MODELS)
RESOURCE_ACTIONS = ("add", "change", "publish")
STATS_MODELS = ("Jurisdiction", "Source", "Dimension", "Category", "Metric", "Observation")
MEDIA_ACTIONS = ("add", "change", "choose")


def _permission(model, action, using):
    """The permission `<action>_<model>`, created if its post_migrate handler has not run yet.

    `migrate` signals each app in turn and the portal comes first, so on a fresh database
    the other apps' permissions (and Wagtail's publish_* for snippets) may not exist yet.
    The rows made here are the ones Django and Wagtail would make.
    """
    opts = model._meta
    codename = get_permission_codename(action, opts)
    content_type = ContentType.objects.db_manager(using).get_for_model(
        model, for_concrete_model=False
    )
    name = dict(opts.permissions).get(codename, f"Can {action} {opts.verbose_name_raw}")
    permission, _ = Permission.objects.using(using).get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


def _translate_permission(using):
    """simple_translation's right to translate a page or snippet ("Translate" in the admin)."""
    content_type = ContentType.objects.db_manager(using).get_for_model(SimpleTranslation)
    permission, _ = Permission.objects.using(using).get_or_create(
        content_type=content_type,
        codename="submit_translation",
        defaults={"name": "Can submit translations"},
    )
    return permission


def _grant(group, using, model_permissions, page_permissions, collection_permissions):
    group.permissions.add(*model_permissions)
    root_page = Page.objects.using(using).filter(depth=1).first()
    if root_page is not None:
        for permission in page_permissions:
            GroupPagePermission.objects.using(using).get_or_create(
                group=group, page=root_page, permission=permission
            )
    root_collection = Collection.objects.using(using).filter(depth=1).first()
    if root_collection is not None:
        for permission in collection_permissions:
            GroupCollectionPermission.objects.using(using).get_or_create(
                group=group, collection=root_collection, permission=permission
            )


def ensure_groups(using=DEFAULT_DB_ALIAS):
    """Create or complete the "Editors" and "Data managers" groups. Safe to run repeatedly."""

    def perms(app_label, model_names, actions):
        return [
            _permission(apps.get_model(app_label, name), action, using)
            for name in model_names
            for action in actions
        ]

    editor_model_perms = (
        [_permission(Admin, "access", using), _translate_permission(using)]
        + perms("resources", RESOURCE_MODELS, RESOURCE_ACTIONS)
        + perms("stats", STATS_MODELS, ("view",))
    )
    page_perms = [_permission(Page, action, using) for action in PAGE_ACTIONS]
    media_perms = [
        _permission(model, action, using)
        for model in (get_image_model(), get_document_model())
        for action in MEDIA_ACTIONS
    ]
    data_manager_model_perms = (
        editor_model_perms
        + perms("stats", STATS_MODELS, ("add", "change", "delete"))
        + perms("stats", ("ImportRecord",), ("view",))
        + perms("stats", ("Observation",), ("import",))
    )

    editors, _ = Group.objects.using(using).get_or_create(name=EDITORS)
    _grant(editors, using, editor_model_perms, page_perms, media_perms)
    data_managers, _ = Group.objects.using(using).get_or_create(name=DATA_MANAGERS)
    _grant(data_managers, using, data_manager_model_perms, page_perms, media_perms)
    return editors, data_managers


def ensure_groups_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    ensure_groups(using=using)
