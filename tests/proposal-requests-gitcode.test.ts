// The request counts against the emulator's GitCode mode: files go one by one there.
const suite = "./proposal-requests.test.ts?forge=gitcode";
await import(suite);

export {};
