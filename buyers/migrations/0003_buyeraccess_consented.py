from django.db import migrations, models


class Migration(migrations.Migration):
    """BuyerAccess holds every live subscription (requested ones included) with the factory's
    consent as a column: the rows so far were all consented and active."""

    dependencies = [
        ("buyers", "0002_subscriptions_consent"),
    ]

    operations = [
        migrations.AddField(
            model_name="buyeraccess",
            name="consented",
            field=models.BooleanField(default=False),
        ),
        migrations.RunSQL(
            "UPDATE buyers_buyeraccess SET consented = true", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.AlterField(
            model_name="buyeraccess",
            name="valid_from",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="buyeraccess",
            name="valid_until",
            field=models.DateField(blank=True, null=True),
        ),
    ]
