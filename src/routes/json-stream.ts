/**
 * A success envelope with one streamed array: the bytes are exactly those of
 * `JSON.stringify(success(data))`, but only one batch of the array's rows is serialised at a
 * time, so many clients reading a 40 MB listing at once cost a few hundred kilobytes each instead
 * of the whole answer each.
 */
import { success } from "./envelope.ts";

const encoder = new TextEncoder();
const ROWS = "\u0000rows\u0000";

/**
 * The envelope split around the streamed array: `{"code":…,"msg":…,"data":` and `}` when the
 * array is `data` itself, `…"data":{"scanner":…,"trackings":` and `}}` when it sits inside.
 */
function envelopeParts(data: (rows: string) => unknown): [string, string] {
  const whole = JSON.stringify(success(data(ROWS)));
  const marker = JSON.stringify(ROWS);
  const at = whole.indexOf(marker);
  return [whole.slice(0, at), whole.slice(at + marker.length)];
}

/**
 * `batches` as the answer's `data`, or placed inside it by `data` (which gets a stand-in for the
 * array and returns the value of `data`, e.g. `(rows) => ({ scanner, trackings: rows })`).
 */
export function streamedSuccess(
  batches: Iterator<readonly unknown[]>,
  data: (rows: string) => unknown = (rows) => rows,
): Response {
  const [head, tail] = envelopeParts(data);
  let first = true;
  let started = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      let text = started ? "" : `${head}[`;
      started = true;
      // A batch may come back empty-handed only at the end; loop so every pull enqueues bytes.
      while (true) {
        const next = batches.next();
        if (next.done) {
          controller.enqueue(encoder.encode(`${text}]${tail}`));
          controller.close();
          return;
        }
        if (next.value.length === 0) continue;
        const rows = next.value.map((row) => JSON.stringify(row)).join(",");
        text += first ? rows : `,${rows}`;
        first = false;
        controller.enqueue(encoder.encode(text));
        return;
      }
    },
    cancel() {
      batches.return?.();
    },
  });
  return new Response(body, {
    headers: { "content-type": "application/json;charset=utf-8" },
  });
}
