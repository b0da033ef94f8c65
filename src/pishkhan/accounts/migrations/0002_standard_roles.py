from django.db import migrations


def add_standard_roles(apps, schema_editor):
    from pishkhan.accounts.roles import STANDARD_ROLES

    Role = apps.get_model("accounts", "Role")
    for code, name_fa, name_en, description in STANDARD_ROLES:
        Role.objects.get_or_create(code=code, defaults={"name_fa": name_fa, "name_en": name_en, "description": description})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(add_standard_roles, migrations.RunPython.noop)]
