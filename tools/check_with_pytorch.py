#!/usr/bin/env python3
# Usage: python3 tools/check_with_pytorch.py train-output/model.safetensors train-output/metrics.json data/fashion-mnist-sample
# (needs torch, numpy and safetensors; run after `hpccnn train` on the embedded sample, lenet5).
# Loads HpcCnn's model.safetensors into a PyTorch LeNet-5 (strict: every name and shape must
# match nn.Conv2d/nn.Linear's) and evaluates it on the same 1,000 test images.
import gzip, json, struct, sys
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from safetensors.torch import load_file

class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2); self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120); self.fc2 = nn.Linear(120, 84); self.fc3 = nn.Linear(84, 10)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2); x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1); x = F.relu(self.fc1(x)); x = F.relu(self.fc2(x)); return self.fc3(x)

def idx(path):
    data = gzip.open(path).read(); dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)

model = LeNet5()
state = load_file(sys.argv[1])
model.load_state_dict(state, strict=True)
x = torch.tensor(idx(sys.argv[3] + "/t10k-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) * (1.0 / 255.0)
y = torch.tensor(idx(sys.argv[3] + "/t10k-labels-idx1-ubyte.gz"), dtype=torch.int64)
with torch.no_grad():
    logits = model(x)
    loss = F.cross_entropy(logits, y).item()
pred = logits.argmax(1)
conf = np.zeros((10, 10), dtype=np.int64)
for t, p in zip(y.tolist(), pred.tolist()): conf[t, p] += 1
ours = json.load(open(sys.argv[2]))["final"]
print(f"pytorch {torch.__version__}: accuracy {(pred == y).float().mean().item():.4f}, loss {loss:.6f}")
print(f"hpccnn: accuracy {ours['accuracy']:.4f}, loss {ours['loss']:.6f}")
print("confusion matrices equal:", (conf == np.array(ours["confusion"])).all())
print("state:", {k: list(v.shape) for k, v in state.items()})
