-- The plain booking of the durable bench (three nights here, as gen.py's
-- bookings): conditional counter updates and an insert, one transaction.
\set r random(0, 999)
BEGIN;
UPDATE inventory SET booked = booked + 1 WHERE resource = 'r' || :r AND night = '2026-07-02' AND booked < capacity;
UPDATE inventory SET booked = booked + 1 WHERE resource = 'r' || :r AND night = '2026-07-03' AND booked < capacity;
UPDATE inventory SET booked = booked + 1 WHERE resource = 'r' || :r AND night = '2026-07-04' AND booked < capacity;
INSERT INTO bookings (resource, check_in, check_out, guest) VALUES ('r' || :r, '2026-07-02', '2026-07-05', 'Ana Lima');
COMMIT;
