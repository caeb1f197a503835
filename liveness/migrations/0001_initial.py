# Liveness checks, rules and states (issue 11).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('platforms', '0001_initial'),
        ('referral', '0003_review_job'),
    ]

    operations = [
        migrations.CreateModel(
            name='LivenessState',
            fields=[
                ('referral', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='liveness', serialize=False, to='referral.referral')),
                ('state', models.CharField(choices=[('pending', 'Not checked yet'), ('online', 'Online'), ('offline', 'Offline'), ('unknown', 'Unknown')], default='pending', max_length=8)),
                ('checks', models.PositiveIntegerField(default=0)),
                ('checked_at', models.DateTimeField(blank=True, null=True)),
                ('offline_at', models.DateTimeField(blank=True, null=True)),
                ('consecutive_offline', models.PositiveIntegerField(default=0)),
                ('followup_flagged_at', models.DateTimeField(blank=True, null=True)),
                ('reappeared', models.BooleanField(default=False)),
                ('reappeared_at', models.DateTimeField(blank=True, null=True)),
                ('finished', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name='LivenessRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('status_code', 'Status code (one or several, comma-separated)'), ('final_url_regex', 'Final URL matches (regular expression)'), ('body_marker', 'Body contains (case-insensitive)')], max_length=16)),
                ('value', models.CharField(max_length=500)),
                ('verdict', models.CharField(choices=[('online', 'Online'), ('offline', 'Offline'), ('unknown', 'Unknown')], max_length=8)),
                ('position', models.PositiveIntegerField(default=0)),
                ('note', models.CharField(blank=True, max_length=200)),
                ('platform', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='liveness_rules', to='platforms.platform')),
            ],
            options={
                'ordering': ['platform', 'position', 'id'],
            },
        ),
        migrations.CreateModel(
            name='LivenessCheck',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sequence', models.PositiveIntegerField()),
                ('due_at', models.DateTimeField()),
                ('lease_until', models.DateTimeField(blank=True, null=True)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('verdict', models.CharField(blank=True, choices=[('online', 'Online'), ('offline', 'Offline'), ('unknown', 'Unknown')], max_length=8)),
                ('url', models.CharField(blank=True, max_length=2048)),
                ('status_code', models.PositiveIntegerField(blank=True, null=True)),
                ('final_url', models.CharField(blank=True, max_length=2048)),
                ('redirects', models.PositiveIntegerField(default=0)),
                ('body_sha256', models.CharField(blank=True, max_length=64)),
                ('body_bytes', models.PositiveIntegerField(blank=True, null=True)),
                ('matched_rule', models.CharField(blank=True, max_length=200)),
                ('error', models.TextField(blank=True)),
                ('duration_ms', models.PositiveIntegerField(blank=True, null=True)),
                ('via_proxy', models.BooleanField(default=False)),
                ('referral', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='liveness_checks', to='referral.referral')),
            ],
            options={
                'ordering': ['referral', 'sequence'],
                'indexes': [models.Index(condition=models.Q(('finished_at__isnull', True)), fields=['due_at'], name='liveness_check_due_idx')],
                'constraints': [models.UniqueConstraint(fields=('referral', 'sequence'), name='liveness_one_check_per_slot')],
            },
        ),
    ]
