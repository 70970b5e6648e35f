// The whole publish suite, fault matrix included, against a Gitee-compatible forge that answers
// a missing file with 404 "Not Found File" instead of gitee.com's 200 [].
const suite = "./publish.test.ts?forge=gitee-404";
await import(suite);

export {};
