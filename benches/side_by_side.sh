#!/usr/bin/env bash
# Side-by-side throughput of full training steps (forward, backward, Adam): cryorbf against the
# PyTorch peer (../shared/peers/torch_rbf_reference.py, separable renderer, its best of 1 and 2
# threads), at the paper's shapes (batch 8, 141 residues = 282 RBFs, box 128, latent dim 1), back
# to back in one run, from the repository root after `cargo build --release`.
# Usage: benches/side_by_side.sh [rounds] [steps]   (PY: the peer's python, with torch)
set -euo pipefail
ROUNDS=${1:-2}
STEPS=${2:-50}
CRYORBF=${CRYORBF:-target/release/cryorbf}
PY=${PY:-$HOME/torchpeer/bin/python}
PEER=${PEER:-../shared/peers/torch_rbf_reference.py}
OUT=$(mktemp)
echo "# $(date -Is) $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  for model in homogeneous vae; do
    for threads in 1 2; do
      "$PY" "$PEER" --renderers separable --models "$model" --threads "$threads" --steps "$STEPS" \
        | sed "s/^/peer $round $model /" >> "$OUT"
    done
    "$CRYORBF" bench --json --model "$model" --batch 8 --residues 141 --box 128 --zdim 1 --steps "$STEPS" \
      | sed "s/^/ours $round $model /" >> "$OUT"
  done
done
python3 - "$OUT" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    who, rnd, model, js = line.split(" ", 3)
    r = json.loads(js)
    rows.setdefault((rnd, model), {}).setdefault(who, []).append(r)
print("| round | model | shapes (batch, RBFs, box) | cryorbf images/s | peer images/s (best threads) | ratio |")
print("|---|---|---|---|---|---|")
for (rnd, model), v in sorted(rows.items()):
    ours = v["ours"][0]
    peer = max(v["peer"], key=lambda r: r["images_per_s"])
    print(f"| {rnd} | {model} | {ours['batch']}, {ours['n_rbf']}, {ours['box_size']} | {ours['images_per_s']:.0f} "
          f"| {peer['images_per_s']:.0f} ({peer['threads']} thr; others: "
          + ", ".join(f"{p['threads']} thr {p['images_per_s']:.0f}" for p in v["peer"] if p is not peer)
          + f") | {ours['images_per_s'] / peer['images_per_s']:.2f} |")
PY
rm -f "$OUT"
