// Check that llama.cpp (node-llama-cpp) decodes the exported GGUF exactly like torch.
//
//   node tools/tiny-reasoner/parity.mjs [models/tiny-reasoner.gguf] [models/tiny-reasoner.parity.json]
//
// For each parity case: tokenize the text with special tokens parsed, compare
// with torch's prompt ids, greedy-decode (temperature 0) until eos or as many
// tokens as torch produced, and compare the ids. Exit code 1 on any mismatch.
// Also runs budget forcing end to end on a few held-out problems
// as a smoke test of the Wait path (0 to 3 waits).
import path from "node:path";
import fs from "node:fs";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const modelPath = path.resolve(process.argv[2] ?? path.join(root, "models", "tiny-reasoner.gguf"));
const parityPath = path.resolve(process.argv[3] ?? modelPath.replace(/\.gguf$/, ".parity.json"));

let nlc;
try {
    nlc = await import("node-llama-cpp");
} catch {
    nlc = await import(process.env.NODE_LLAMA_CPP_PATH ?? "/tmp/nlc/node_modules/node-llama-cpp/dist/index.js");
}
const { getLlama } = nlc;

const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: 1024, threads: 1, sequences: 1 });
const sequence = context.getSequence();
const eos = model.tokens.eos;

async function greedy(ids, maxNew) {
    const out = [];
    if (maxNew <= 0) return out;
    for await (const t of sequence.evaluate(ids, { temperature: 0, yieldEogToken: true })) {
        out.push(t);
        if (t === eos || out.length >= maxNew) break;
    }
    return out;
}

const cases = JSON.parse(fs.readFileSync(parityPath, "utf8"));
let failures = 0;
for (const c of cases) {
    await sequence.clearHistory();
    const ids = Array.from(model.tokenize(c.text, true));
    const idsOk = JSON.stringify(ids) === JSON.stringify(c.prompt_ids);
    const out = await greedy(ids, c.continuation_ids.length);
    const outOk = JSON.stringify(out) === JSON.stringify(c.continuation_ids);
    if (!idsOk || !outOk) failures++;
    console.log(`${idsOk && outOk ? "ok  " : "FAIL"} ${c.name}: prompt ids ${idsOk ? "equal" : "DIFFER"}, ` +
        `${out.length} tokens ${outOk ? "equal" : "DIFFER"}`);
    if (!idsOk) console.log("  llama.cpp ids:", JSON.stringify(ids), "\n  torch ids:    ", JSON.stringify(c.prompt_ids));
    if (!outOk) {
        console.log("  llama.cpp:", JSON.stringify(model.detokenize(out, true)));
        console.log("  torch:    ", JSON.stringify(c.continuation_text));
    }
}

// Budget forcing smoke test: 0 to 3 waits on a few held-out problems.
const heldoutPath = path.join(path.dirname(modelPath), "tiny-reasoner.heldout.jsonl");
if (fs.existsSync(heldoutPath) && !process.env.PARITY_ONLY) {
    const rows = fs.readFileSync(heldoutPath, "utf8").trim().split("\n").slice(0, 20).map((l) => JSON.parse(l));
    const endThink = model.tokenize("</think>", true)[0];
    const waitIds = model.tokenize("Wait", true);
    for (const waits of [0, 1, 2, 3]) {
        let correct = 0;
        let example = "";
        for (const r of rows) {
            await sequence.clearHistory();
            let next = Array.from(model.tokenize(
                `<|im_start|>user\n${r.problem}<|im_end|>\n<|im_start|>assistant\n<think>\n`, true));
            const gen = [];
            let used = 0;
            let phase = "think";
            outer: while (gen.length < 900) {
                for await (const t of sequence.evaluate(next, { temperature: 0, yieldEogToken: true })) {
                    if (t === eos) break outer;
                    if (phase === "think" && t === endThink && used < waits) {
                        used++;
                        gen.push(...waitIds);
                        next = waitIds;
                        continue outer;
                    }
                    if (t === endThink) phase = "answer";
                    gen.push(t);
                    if (gen.length >= 900) break outer;
                }
                break;
            }
            const text = model.detokenize(gen, true);
            const m = [...text.matchAll(/\\boxed\{(\d+)\}/g)].pop();
            if (m && Number(m[1]) === r.answer) correct++;
            if (!example) example = text;
        }
        console.log(`budget forcing, ${waits} waits: ${correct}/${rows.length} correct on the first held-out problems`);
        console.log("  e.g.", JSON.stringify(example));
    }
}

await context.dispose();
await model.dispose();
console.log(failures === 0 ? "PARITY OK" : `PARITY FAILED (${failures} cases)`);
process.exit(failures === 0 ? 0 : 1);
