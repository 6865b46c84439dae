#!/bin/sh
# First start of the db container: the owner role (runs migrations, owns the tables) and the
# application role (owns nothing; `manage.py grant_app_role` gives it its privileges).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$TRD_OWNER_PASSWORD" -v app_password="$TRD_APP_PASSWORD" <<'SQL'
CREATE ROLE trdtracker_owner LOGIN NOSUPERUSER NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE trdtracker_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE DATABASE trdtracker OWNER trdtracker_owner;
REVOKE ALL ON DATABASE trdtracker FROM PUBLIC;
SQL
