"""On PostgreSQL the database itself refuses UPDATE and DELETE of audit events.

Row triggers do not fire on TRUNCATE (which the test runner's flush uses); in
production the application's role should not own the table, so it cannot TRUNCATE.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_event_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are immutable: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_immutable
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_event_immutable ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_immutable();
"""


def run_on_postgresql(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_actor_action_index")]

    operations = [migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP))]
