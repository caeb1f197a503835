"""One removal order names one or more URLs of one platform: the order moves from a one-to-one on its referral to
a foreign key on each of its referrals, and carries its platform. Existing orders keep their one referral."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('platforms', '0005_exposure'),
        ('referral', '0012_referral_dsa_answer'),
    ]

    operations = [
        # The old one-to-one gives up the `order` name on Referral before the foreign key takes it (no SQL).
        migrations.AlterField(
            model_name='removalorder', name='referral',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                       to='referral.referral'),
        ),
        migrations.AddField(
            model_name='referral', name='order',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='referrals', to='referral.removalorder'),
        ),
        migrations.AddField(
            model_name='removalorder', name='platform',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='removal_orders', to='platforms.platform'),
        ),
        migrations.RunSQL(
            sql=[
                "UPDATE referral_referral SET order_id = (SELECT o.id FROM referral_removalorder o "
                "WHERE o.referral_id = referral_referral.id) WHERE instrument = 'removal_order'",
                "UPDATE referral_removalorder SET platform_id = (SELECT r.platform_id FROM referral_referral r "
                "WHERE r.id = referral_removalorder.referral_id)",
            ],
            reverse_sql=[
                "UPDATE referral_removalorder SET referral_id = (SELECT MIN(r.id) FROM referral_referral r "
                "WHERE r.order_id = referral_removalorder.id)",
            ],
        ),
        migrations.AlterField(
            model_name='removalorder', name='platform',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='removal_orders',
                                    to='platforms.platform'),
        ),
        migrations.RemoveField(model_name='removalorder', name='referral'),
    ]
