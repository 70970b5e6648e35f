/**
 * A success envelope whose `data` array is streamed: the bytes are exactly those of
 * `JSON.stringify(success(rows))`, but only one batch of rows is serialised at a time, so many
 * clients reading a 40 MB listing at once cost a few hundred kilobytes each instead of the whole
 * answer each.
 */
import { success } from "./envelope.ts";

const encoder = new TextEncoder();

/** The envelope split around its `data` value: `{"code":…,"msg":…,"data":` and `}`. */
function envelopeParts(): [string, string] {
  const marker = '"\u0000data\u0000"';
  const whole = JSON.stringify(success(null)).replace('"data":null', `"data":${marker}`);
  const at = whole.indexOf(marker);
  return [whole.slice(0, at), whole.slice(at + marker.length)];
}

export function streamedSuccess(batches: Iterator<readonly unknown[]>): Response {
  const [head, tail] = envelopeParts();
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
