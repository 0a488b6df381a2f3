-- Twofold server schema, issue 18: per-address limits, the one pending request per user and
-- address, and the block after a report count an address by its limit key (an IPv4-mapped IPv6
-- address as its IPv4 address, an IPv6 address as its /64), kept beside the address itself.
-- Sign-ins stored before keep their address as their key.
ALTER TABLE signins ADD COLUMN ip_key TEXT;
UPDATE signins SET ip_key = ip;
DROP INDEX signins_by_ip;
CREATE INDEX signins_by_ip_key ON signins(service_id, ip_key, created_at);
