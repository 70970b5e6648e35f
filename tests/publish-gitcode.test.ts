// The whole publish suite, fault matrix included, against the emulator's GitCode mode. The query
// makes a second instance of the suite's module, which reads its mode from it.
const suite = "./publish.test.ts?forge=gitcode";
await import(suite);

export {};
