"""Contact points' signing secrets encrypted at rest (core/encrypted.py): the columns become text (a Fernet token
is longer than the secret) and every stored plain value is encrypted with the first FIELD_ENCRYPTION_KEY.

Plain SQL on purpose: the model's field would try to decrypt the plain values it reads.
"""

from django.db import migrations

import core.encrypted

COLUMNS = ("secret", "previous_secret")


def _convert(schema_editor, change) -> None:
    connection = schema_editor.connection
    table = connection.ops.quote_name("platforms_contactpoint")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(COLUMNS)} FROM {table}")
        rows = cursor.fetchall()
        for pk, *values in rows:
            new = [change(value) if value else value for value in values]
            if new != values:
                cursor.execute(f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in COLUMNS)} WHERE id = %s",
                               [*new, pk])


def encrypt_existing(apps, schema_editor) -> None:
    _convert(schema_editor, core.encrypted.encrypt)


def decrypt_existing(apps, schema_editor) -> None:
    _convert(schema_editor, core.encrypted.decrypt)


class Migration(migrations.Migration):

    dependencies = [
        ("platforms", "0003_cross_border"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contactpoint",
            name="secret",
            field=core.encrypted.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="contactpoint",
            name="previous_secret",
            field=core.encrypted.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing, elidable=False),
    ]
