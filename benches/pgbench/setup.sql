-- Tables for run.sh: Reservo's records and pending events as the
-- PostgreSQL store makes them, 1,000 payloads of a hold's (1.5 KB), a
-- booking's (2.3 KB), an idempotency record's and an event's size (hex
-- text: compresses about as JSON does), night ledgers of 1,000 resources,
-- and the plain booking's inventory and bookings tables.
DROP TABLE IF EXISTS records, pending_events, payloads, inventory, bookings;
DROP SEQUENCE IF EXISTS versions;
CREATE TABLE records (key BYTEA PRIMARY KEY, value BYTEA NOT NULL, version INT8 NOT NULL);
CREATE TABLE pending_events (version INT8 NOT NULL, n INT8 NOT NULL, kind TEXT NOT NULL, payload BYTEA NOT NULL, PRIMARY KEY (version, n));
CREATE SEQUENCE versions;
CREATE TABLE payloads (i int primary key, hold bytea, bk bytea, idem bytea, ev bytea);
INSERT INTO payloads SELECT i,
  convert_to((SELECT string_agg(md5(g::text || i), '') FROM generate_series(1,48) g), 'UTF8'),
  convert_to((SELECT string_agg(md5(g::text || i || 'b'), '') FROM generate_series(1,72) g), 'UTF8'),
  convert_to((SELECT string_agg(md5(g::text || i || 'c'), '') FROM generate_series(1,9) g), 'UTF8'),
  convert_to((SELECT string_agg(md5(g::text || i || 'd'), '') FROM generate_series(1,9) g), 'UTF8')
FROM generate_series(0,999) i;
CREATE TABLE inventory (resource text, night date, capacity int, booked int, PRIMARY KEY (resource, night));
INSERT INTO inventory SELECT 'r'||r, d::date, 1000000, 0 FROM generate_series(0,999) r, generate_series('2026-07-01'::date, '2026-07-10'::date, '1 day') d;
CREATE TABLE bookings (id bigserial primary key, resource text, check_in date, check_out date, guest text);
-- night ledgers pre-existing for 1000 resources x 10 nights
INSERT INTO records SELECT convert_to('nt/2026-07-0'||n||'/r'||r, 'UTF8'), '1;0;'::bytea, nextval('versions') FROM generate_series(0,999) r, generate_series(1,9) n;
VACUUM ANALYZE;
