// The extend fault matrix and crash points against a Gitee-compatible forge that answers a
// missing file with 404.
const suite = "./extend-faults.test.ts?forge=gitee-404";
await import(suite);

export {};
