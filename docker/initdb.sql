-- The platform's role: it owns its tables but is neither superuser nor BYPASSRLS, so the
-- row-level security policies apply to every query the web and worker processes make.
CREATE ROLE betterwork LOGIN PASSWORD 'betterwork' NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
CREATE DATABASE betterwork OWNER betterwork;
