from django.db import migrations, models

# BuyerAccess has no row-level policy, but factories have: read them with every programme in scope.
COPY_NAMES = """
SELECT set_config('app.programme_ids', COALESCE((SELECT string_agg(id::text, ',') FROM betterwork_programme), ''), true);
UPDATE buyers_buyeraccess AS access SET factory_name = factory.name, factory_region = factory.region
  FROM factories_factory AS factory WHERE factory.id = access.factory_id;
"""


class Migration(migrations.Migration):
    """A buyer's pages list an unconsented factory's name and region from its access rows, so that
    the buyer's scope needs no programme where it may read nothing."""

    dependencies = [
        ("buyers", "0004_credits"),
        ("factories", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="buyeraccess",
            name="factory_name",
            field=models.CharField(default="", max_length=200),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="buyeraccess",
            name="factory_region",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.RunSQL(COPY_NAMES, reverse_sql=migrations.RunSQL.noop),
    ]
