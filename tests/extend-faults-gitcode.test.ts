// The extend fault matrix and crash points against the emulator's GitCode mode (files one by
// one).
const suite = "./extend-faults.test.ts?forge=gitcode";
await import(suite);

export {};
