// The merged-proposal suite, fault matrix included, against the emulator's GitCode mode (issues
// are edited with POST there, and files are written one by one).
const suite = "./merged-faults.test.ts?forge=gitcode";
await import(suite);

export {};
