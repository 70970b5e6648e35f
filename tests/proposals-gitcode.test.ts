// The rolling-proposal suite against the emulator's GitCode mode (issues edited with POST, the
// token in PRIVATE-TOKEN, missing files answered 404). The query makes a second instance of the
// suite's module, which reads its mode from it.
const suite = "./proposals.test.ts?forge=gitcode";
await import(suite);

export {};
