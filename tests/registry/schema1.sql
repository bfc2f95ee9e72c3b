-- A registry of schema 1, as rsap wrote it before hosts were recorded (commit
-- 1ca6658): one approved assignment, a pending request, a live lease held by a
-- process that has since ended (pid 15926) and a released lease.  Made with
-- that rsap (request, approve, lease --pid, lease, release, request), then
-- dumped with Python's sqlite3 iterdump; test_workflow.c loads it.
BEGIN TRANSACTION;
CREATE TABLE assignments (
  id INTEGER PRIMARY KEY,
  service_id INTEGER NOT NULL REFERENCES services(id),
  request_id INTEGER REFERENCES requests(id),
  port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp', 'sctp', 'dccp')),
  description TEXT NOT NULL,
  reference TEXT,
  note TEXT,
  over_iana TEXT,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  assigned_us INTEGER NOT NULL,
  ended_us INTEGER,
  quarantine_until_us INTEGER,
  CHECK (active = (ended_us IS NULL))
);
INSERT INTO "assignments" VALUES(1,1,1,20400,'tcp','Old service',NULL,NULL,NULL,1,1796143535971840,NULL,NULL);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  time_us INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('request', 'approve', 'reject', 'deassign',
    'transfer', 'revoke', 'lease', 'release', 'expire', 'import')),
  request_id INTEGER REFERENCES requests(id),
  assignment_id INTEGER REFERENCES assignments(id),
  lease_id INTEGER REFERENCES leases(id),
  service TEXT,
  port INTEGER CHECK (port BETWEEN 0 AND 65535),
  protocol TEXT CHECK (protocol IN ('tcp', 'udp', 'sctp', 'dccp')),
  reason TEXT,
  details TEXT CHECK (details IS NULL OR json_valid(details))
);
INSERT INTO "events" VALUES(1,1796143535963056,'root','request',1,NULL,NULL,'old-svc',20400,NULL,NULL,'{"allow_system":false,"assignee":"Ops <ops@example.com>","contact":"ops@example.com","description":"Old service","note":null,"over_iana":false,"protocols":"tcp","range_high":20400,"range_low":20400,"reference":null,"same_service":false}');
INSERT INTO "events" VALUES(2,1796143535971840,'alice','approve',1,1,NULL,'old-svc',20400,'tcp',NULL,'{"assignee":"Ops <ops@example.com>","checks":[],"contact":"ops@example.com","description":"Old service","note":null,"over_iana":null,"reference":null}');
INSERT INTO "events" VALUES(3,1796143538815626,'root','lease',NULL,NULL,1,NULL,20500,NULL,NULL,'{"expires":"2026-12-02T16:45:38.815Z","expires_us":1796229938815626,"name":"old run","pid":15926,"pid_start":2233923,"ttl_s":86400}');
INSERT INTO "events" VALUES(4,1796143538821166,'root','lease',NULL,NULL,2,NULL,20501,NULL,NULL,'{"expires":"2026-12-02T16:45:38.821Z","expires_us":1796229938821166,"name":"done","pid":15924,"pid_start":2233923,"ttl_s":86400}');
INSERT INTO "events" VALUES(5,1796143538825142,'root','release',NULL,NULL,2,NULL,20501,NULL,NULL,'{"name":"done"}');
INSERT INTO "events" VALUES(6,1796143538829250,'root','request',2,NULL,NULL,'pending-svc',20402,NULL,NULL,'{"allow_system":false,"assignee":"Dev <dev@example.com>","contact":"dev@example.com","description":"Pending","note":null,"over_iana":false,"protocols":"udp","range_high":20402,"range_low":20402,"reference":null,"same_service":false}');
CREATE TABLE holdings (
  port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp', 'sctp', 'dccp')),
  kind TEXT NOT NULL CHECK (kind IN ('assignment', 'lease')),
  assignment_id INTEGER UNIQUE REFERENCES assignments(id),
  lease_id INTEGER REFERENCES leases(id),
  PRIMARY KEY (port, protocol),
  CHECK ((kind = 'assignment') = (assignment_id IS NOT NULL)),
  CHECK ((kind = 'lease') = (lease_id IS NOT NULL))
) WITHOUT ROWID;
INSERT INTO "holdings" VALUES(20400,'tcp','assignment',1,NULL);
INSERT INTO "holdings" VALUES(20500,'tcp','lease',NULL,1);
INSERT INTO "holdings" VALUES(20500,'udp','lease',NULL,1);
CREATE TABLE leases (
  id INTEGER PRIMARY KEY,
  port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  name TEXT,
  pid INTEGER CHECK (pid > 0),
  pid_start INTEGER,
  expires_us INTEGER NOT NULL,
  leased_us INTEGER NOT NULL,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  ended_us INTEGER,
  CHECK (active = (ended_us IS NULL))
);
INSERT INTO "leases" VALUES(1,20500,'old run',15926,2233923,1796229938815626,1796143538815626,1,NULL);
INSERT INTO "leases" VALUES(2,20501,'done',15924,2233923,1796229938821166,1796143538821166,0,1796143538825142);
CREATE TABLE requests (
  id INTEGER PRIMARY KEY,
  service TEXT NOT NULL CHECK (length(service) BETWEEN 1 AND 63),
  port INTEGER CHECK (port BETWEEN 0 AND 65535),
  range_low INTEGER NOT NULL CHECK (range_low BETWEEN 0 AND 65535),
  range_high INTEGER NOT NULL CHECK (range_high BETWEEN range_low AND 65535),
  protocols INTEGER NOT NULL CHECK (protocols > 0 AND protocols < 32 AND (protocols & 1) = 0),
  description TEXT NOT NULL,
  assignee TEXT NOT NULL,
  contact TEXT NOT NULL,
  reference TEXT,
  note TEXT,
  allow_system INTEGER NOT NULL DEFAULT 0 CHECK (allow_system IN (0, 1)),
  over_iana INTEGER NOT NULL DEFAULT 0 CHECK (over_iana IN (0, 1)),
  same_service INTEGER NOT NULL DEFAULT 0 CHECK (same_service IN (0, 1)),
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
  requested_by TEXT NOT NULL,
  requested_us INTEGER NOT NULL
);
INSERT INTO "requests" VALUES(1,'old-svc',20400,20400,20400,2,'Old service','Ops <ops@example.com>','ops@example.com',NULL,NULL,0,0,0,'approved','root',1796143535963056);
INSERT INTO "requests" VALUES(2,'pending-svc',20402,20402,20402,4,'Pending','Dev <dev@example.com>','dev@example.com',NULL,NULL,0,0,0,'pending','root',1796143538829250);
CREATE TABLE services (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 63),
  assignee TEXT NOT NULL,
  contact TEXT NOT NULL,
  created_us INTEGER NOT NULL
);
INSERT INTO "services" VALUES(1,'old-svc','Ops <ops@example.com>','ops@example.com',1796143535971840);
CREATE INDEX requests_pending_port ON requests(port) WHERE state = 'pending';
CREATE INDEX requests_service ON requests(service COLLATE NOCASE);
CREATE UNIQUE INDEX assignments_active_port ON assignments(port, protocol) WHERE active;
CREATE INDEX assignments_port ON assignments(port);
CREATE INDEX assignments_service ON assignments(service_id);
CREATE UNIQUE INDEX leases_active_port ON leases(port) WHERE active;
CREATE INDEX leases_port ON leases(port);
CREATE INDEX holdings_lease ON holdings(lease_id) WHERE lease_id IS NOT NULL;
CREATE INDEX events_port ON events(port) WHERE port IS NOT NULL;
CREATE INDEX events_service ON events(service COLLATE NOCASE) WHERE service IS NOT NULL;
CREATE INDEX events_request ON events(request_id) WHERE request_id IS NOT NULL;
CREATE INDEX events_assignment ON events(assignment_id) WHERE assignment_id IS NOT NULL;
CREATE INDEX events_lease ON events(lease_id) WHERE lease_id IS NOT NULL;
CREATE TRIGGER events_never_change BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'the event table is append-only'); END;
CREATE TRIGGER events_never_go BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'the event table is append-only'); END;
CREATE TRIGGER services_stay BEFORE DELETE ON services
  BEGIN SELECT RAISE(ABORT, 'services are never deleted'); END;
CREATE TRIGGER requests_stay BEFORE DELETE ON requests
  BEGIN SELECT RAISE(ABORT, 'requests are never deleted'); END;
CREATE TRIGGER assignments_stay BEFORE DELETE ON assignments
  BEGIN SELECT RAISE(ABORT, 'assignments are never deleted'); END;
CREATE TRIGGER leases_stay BEFORE DELETE ON leases
  BEGIN SELECT RAISE(ABORT, 'leases are never deleted'); END;
CREATE VIEW events_readable AS
  SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ', time_us / 1000000.0, 'unixepoch') AS time,
         actor, action, request_id, assignment_id, lease_id, service, port, protocol,
         reason, details
  FROM events;
COMMIT;
PRAGMA user_version = 1;
