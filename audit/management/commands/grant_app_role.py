"""Give the application's database role exactly what it needs, after `migrate` as the owner.

The role reads and writes the app's tables but owns none, so it cannot ALTER, DROP or TRUNCATE
them, disable their triggers or touch session_replication_role; on the audit table it may only
SELECT and INSERT (the events and their patient links). Default privileges cover tables that later migrations create. Idempotent:
run it after every `migrate`.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction
from psycopg2 import sql

AUDIT_TABLES = ("audit_auditevent", "audit_auditeventpatient")
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def grant_statements(role: str, database: str) -> list[sql.Composed]:
    who = sql.Identifier(role)
    return [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), who),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(who),
        # Start from nothing, so a privilege granted by hand (or by an older version) goes.
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(who),
        sql.SQL(f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {{}}").format(who),
        *(
            sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), who)
            for table in AUDIT_TABLES
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(who),
        sql.SQL(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {TABLE_PRIVILEGES} ON TABLES TO {{}}"
        ).format(who),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}"
        ).format(who),
    ]


class Command(BaseCommand):
    help = "Grant the application's database role its privileges (run as the owner, after migrate)."

    def add_arguments(self, parser):
        parser.add_argument(
            "role",
            nargs="?",
            help="the application's role (default: the user of DATABASE_URL)",
        )
        parser.add_argument(
            "--database",
            default="owner",
            help="the connection to grant through: the tables' owner (default: owner)",
        )

    def handle(self, *args, role=None, database="owner", **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            self.stdout.write(f"{connection.vendor}: one connection, no roles to grant.")
            return
        role = role or settings.DATABASES["default"]["USER"]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, rolname = current_user, current_database() "
                "FROM pg_roles WHERE rolname = %s",
                [role],
            )
            row = cursor.fetchone()
            if row is None:
                raise CommandError(f"There is no database role {role!r}.")
            superuser, is_owner, database_name = row
            if superuser or is_owner:
                raise CommandError(
                    f"{role!r} is the owner or a superuser: the app must connect as a role "
                    "that owns nothing (set DATABASE_URL to it, MIGRATE_DATABASE_URL to the owner)."
                )
            cursor.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
                [role],
            )
            if cursor.fetchone()[0]:
                raise CommandError(f"{role!r} owns tables; it must own nothing.")
            with transaction.atomic(using=database):
                for statement in grant_statements(role, database_name):
                    cursor.execute(statement)
        self.stdout.write(
            f"Granted {role}: {TABLE_PRIVILEGES} on the app's tables, SELECT and INSERT only on "
            f"{', '.join(AUDIT_TABLES)}."
        )
