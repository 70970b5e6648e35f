import { Database } from "bun:sqlite";

/** The rows {@link makeOriginalDatabase} writes, as `GET /tracking` answers them. */
export const ORIGINAL_TRACKINGS = [
  {
    version_control: "github",
    scm_repo: "BJMX/testPatch01",
    scm_branch: "test",
    scm_commit: "abcdef0123456789abcdef0123456789abcdef01",
    repo: "testPatchTrack/testPatch1",
    branch: "master",
    enabled: true,
  },
  {
    version_control: "github",
    scm_repo: "BJMX/testPatch01",
    scm_branch: "dev",
    scm_commit: null,
    repo: "testPatchTrack/testPatch1",
    branch: "openEuler-22.03-LTS",
    enabled: false,
  },
  {
    version_control: "git",
    scm_repo: "https://git.example.org/zlib.git",
    scm_branch: "main",
    // Stored as '' by the original; served as null, like a never-set position.
    scm_commit: null,
    repo: "src-openeuler/zlib",
    branch: "master",
    enabled: true,
  },
];

/** The original service's two tables, as its SQLAlchemy models created them. */
export function createOriginalTables(db: Database): void {
  db.run(`CREATE TABLE tracking (
    id INTEGER,
    version_control VARCHAR(80),
    scm_repo VARCHAR(80),
    scm_branch VARCHAR(80),
    scm_commit VARCHAR(80),
    repo VARCHAR(80) NOT NULL,
    branch VARCHAR(80) NOT NULL,
    enabled BOOLEAN,
    PRIMARY KEY (repo, branch)
  )`);
  db.run(`CREATE TABLE issue (
    issue VARCHAR(80) NOT NULL,
    repo VARCHAR(80),
    branch VARCHAR(80),
    PRIMARY KEY (issue)
  )`);
}

/** A database exactly as the original service created it (SQLAlchemy models), with rows. */
export function makeOriginalDatabase(path: string): void {
  const db = new Database(path, { create: true });
  createOriginalTables(db);
  db.run(`INSERT INTO tracking VALUES
    (NULL, 'github', 'BJMX/testPatch01', 'test', 'abcdef0123456789abcdef0123456789abcdef01', 'testPatchTrack/testPatch1', 'master', 1),
    (NULL, 'github', 'BJMX/testPatch01', 'dev', NULL, 'testPatchTrack/testPatch1', 'openEuler-22.03-LTS', 0),
    (NULL, 'git', 'https://git.example.org/zlib.git', 'main', '', 'src-openeuler/zlib', 'master', 1)`);
  db.run(`INSERT INTO issue VALUES ('I1X2Y3', 'testPatchTrack/testPatch1', 'master')`);
  db.close();
}
