// BullMQ reference: JOBS no-op jobs through WORKERS workers on the same Redis as zbor's queue.
// Prints one line of JSON: {"jobs", "workers", "seconds", "per_second"}.
import { Queue, Worker } from "bullmq";

const [redisUrl = "redis://127.0.0.1:6379", jobs = "10000", workers = "4"] = process.argv.slice(2);
const url = new URL(redisUrl);
const connection = { host: url.hostname, port: Number(url.port || 6379) };
const prefix = `zbor-bench-bullmq-${process.pid}`;
const total = Number(jobs);

const queue = new Queue("noop", { connection, prefix });
const batch = 1000;
for (let i = 0; i < total; i += batch) {
  await queue.addBulk(Array.from({ length: Math.min(batch, total - i) }, (_, k) => ({
    name: "noop", data: { n: i + k }, opts: { removeOnComplete: true },
  })));
}
let done = 0;
let finish;
const finished = new Promise((resolve) => { finish = resolve; });
const started = process.hrtime.bigint();
const pool = Array.from({ length: Number(workers) }, () => new Worker("noop", async () => {}, { connection, prefix, concurrency: 1 }));
for (const worker of pool) {
  worker.on("completed", () => { done += 1; if (done === total) finish(); });
}
await finished;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await Promise.all(pool.map((w) => w.close()));
await queue.obliterate({ force: true });
await queue.close();
console.log(JSON.stringify({ jobs: total, workers: Number(workers), seconds, per_second: total / seconds }));
