#!/usr/bin/python3
"""Makes the ONNX test models of tests/onnx and their expected outputs.

Run from the repository root with Debian's python3-torch (no onnx python package needed):
    /usr/bin/python3 tests/onnx/make_models.py
Each model <name>.onnx comes with <name>.expected.json: the fixed input (2 images) and the
logits PyTorch computes for it. The tests read these files; they never run Python.
"""
import json
import os
import sys

import torch
from torch import nn

OUT = os.path.dirname(os.path.abspath(__file__))
INPUT = (3, 8, 8)


def conv_bn(cin, cout, k=3, s=1, groups=1):
    return [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]


class ResNetBlock(nn.Module):
    """Stem, an identity basic block and a projected (stride 2) basic block."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 6), nn.ReLU())
        self.body1 = nn.Sequential(*conv_bn(6, 6), nn.ReLU(), *conv_bn(6, 6))
        self.body2 = nn.Sequential(*conv_bn(6, 8, s=2), nn.ReLU(), *conv_bn(8, 8))
        self.down = nn.Sequential(*conv_bn(6, 8, k=1, s=2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.stem(x)
        x = torch.relu(self.body1(x) + x)
        x = torch.relu(self.body2(x) + self.down(x))
        return self.fc(torch.flatten(self.pool(x), 1))


class MobileNetV2Block(nn.Module):
    """Stem with ReLU6, an inverted residual block with its residual add, head, dropout."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8, s=2), nn.ReLU6())
        self.block = nn.Sequential(*conv_bn(8, 16, k=1), nn.ReLU6(),
                                   *conv_bn(16, 16, groups=16), nn.ReLU6(), *conv_bn(16, 8, k=1))
        self.head = nn.Sequential(*conv_bn(8, 12, k=1), nn.ReLU6())
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        x = self.stem(x)
        x = self.head(x + self.block(x))
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(self.drop(x))


class DepthwiseSeparable(nn.Module):
    """Hardswish stem, max pool, a depthwise-separable block (5x5 dilated-free, padding 2),
    average pool and a classifier on the flattened 2x2 map."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8), nn.Hardswish())
        self.pool1 = nn.MaxPool2d(2)
        self.dw = nn.Sequential(*conv_bn(8, 8, k=5, groups=8), nn.ReLU())
        self.pw = nn.Sequential(nn.Conv2d(8, 10, 1, bias=True), nn.ReLU())
        self.pool2 = nn.AvgPool2d(2, count_include_pad=False)
        self.fc = nn.Linear(10 * 2 * 2, 3)

    def forward(self, x):
        x = self.pool2(self.pw(self.dw(self.pool1(self.stem(x)))))
        return self.fc(torch.flatten(x, 1))


class Unsupported(nn.Module):
    """A LeakyRelu, which piconas does not import."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.LeakyReLU(0.1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.act(self.conv(x)).mean((2, 3)))


class PaddedNet(nn.Module):
    """Asymmetric padding as PyTorch exports it (a Pad node before the Conv): a TensorFlow-style
    "same" stride-2 stem (ZeroPad2d right and bottom), an even 2x2 kernel padded to "same" (PyTorch
    1.13 cannot export padding='same') and a non-square asymmetric ZeroPad2d before a depthwise
    conv."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, 6, 3, 2, bias=False),
                                  nn.BatchNorm2d(6), nn.ReLU())
        self.even = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(6, 6, 2, bias=True),
                                  nn.ReLU())
        self.dw = nn.Sequential(nn.ZeroPad2d((1, 2, 0, 1)), nn.Conv2d(6, 6, 3, groups=6),
                                nn.BatchNorm2d(6), nn.ReLU6())
        self.fc = nn.Linear(6 * 3 * 5, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.dw(self.even(self.stem(x))), 1))


class SqueezeExcite(nn.Module):
    """torchvision's SqueezeExcitation: pool, 1x1 reduce, ReLU, 1x1 expand, gate, scale."""

    def __init__(self, channels, squeeze, gate, gate_first):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.gate = gate
        self.gate_first = gate_first

    def forward(self, x):
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        s = self.gate(self.fc2(torch.relu(self.fc1(s))))
        return s * x if self.gate_first else x * s


class MobileNetV3Block(nn.Module):
    """Hard-swish stem and a MobileNetV3 bneck with its residual: 1x1 expand, depthwise 3x3,
    squeeze-and-excitation with a hard-sigmoid gate (features * gate), 1x1 project; head, pool,
    classifier. Every layer has an int8 kernel."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8, s=2), nn.Hardswish())
        self.expand = nn.Sequential(*conv_bn(8, 16, k=1), nn.Hardswish())
        self.dw = nn.Sequential(*conv_bn(16, 16, groups=16), nn.Hardswish())
        self.se = SqueezeExcite(16, 8, nn.Hardsigmoid(), gate_first=False)
        self.project = nn.Sequential(*conv_bn(16, 8, k=1))
        self.head = nn.Sequential(*conv_bn(8, 12, k=1), nn.Hardswish())
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.project(self.se(self.dw(self.expand(x))))
        x = nn.functional.adaptive_avg_pool2d(self.head(x), 1).flatten(1)
        return self.fc(x)


class SigmoidSE(nn.Module):
    """A squeeze-and-excitation module with a sigmoid gate written gate * features (the original
    SE-Net form, torchvision's order)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8), nn.ReLU())
        self.se = SqueezeExcite(8, 4, nn.Sigmoid(), gate_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.se(self.stem(x))
        return self.fc(nn.functional.adaptive_avg_pool2d(x, 1).flatten(1))


class MeanSE(nn.Module):
    """Squeeze-and-excitation written with torch.mean instead of a pooling module: the squeeze
    is torch.mean(x, (2, 3), keepdim=True) (ONNX ReduceMean over H, W with keepdims 1) and the
    head pools with x.mean((2, 3)) (keepdims 0: a [N, C] tensor straight into the classifier)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8), nn.ReLU())
        self.fc1 = nn.Conv2d(8, 4, 1)
        self.fc2 = nn.Conv2d(4, 8, 1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.stem(x)
        s = torch.mean(x, (2, 3), keepdim=True)
        x = x * nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(s))))
        return self.fc(x.mean((2, 3)))


class PaddedAvgPool(nn.Module):
    """Average pools over padding: nn.AvgPool2d(3, 2, padding=1) with PyTorch's default
    count_include_pad=True (the padding counts as zeros: ONNX count_include_pad 1), then one with
    count_include_pad=False, and a classifier on the flattened 4x4 map."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8), nn.ReLU())
        self.pool1 = nn.AvgPool2d(3, 2, padding=1)
        self.pw = nn.Sequential(*conv_bn(8, 8, k=1), nn.ReLU6())
        self.pool2 = nn.AvgPool2d(3, 1, padding=1, count_include_pad=False)
        self.fc = nn.Linear(8 * 4 * 4, 3)

    def forward(self, x):
        x = self.pool2(self.pw(self.pool1(self.stem(x))))
        return self.fc(torch.flatten(x, 1))


class GatedConv(nn.Module):
    """Elementwise gating of two feature maps of one shape (attention-style, x * sigmoid(conv(x))):
    once features * gate, once gate * features (the second gate a BatchNorm'd conv), then a
    residual add of the two gated maps, pool and classifier."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8, s=2), nn.ReLU())
        self.gate1 = nn.Conv2d(8, 8, 3, padding=1)
        self.mix = nn.Sequential(*conv_bn(8, 8, k=1), nn.ReLU6())
        self.gate2 = nn.Sequential(*conv_bn(8, 8, k=3, groups=8))
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.stem(x)
        y = x * torch.sigmoid(self.gate1(x))
        z = self.mix(y)
        z = torch.sigmoid(self.gate2(z)) * z
        return self.fc(nn.functional.adaptive_avg_pool2d(y + z, 1).flatten(1))


class GatedHardSigmoid(nn.Module):
    """The gating of GatedConv with hard-sigmoid gates (x * hardsigmoid(conv(x)), both orders):
    every layer has an int8 kernel, so the elementwise products export to int8 C."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8, s=2), nn.ReLU())
        self.gate1 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.Hardsigmoid())
        self.mix = nn.Sequential(*conv_bn(8, 8, k=1), nn.ReLU6())
        self.gate2 = nn.Sequential(*conv_bn(8, 8, k=3, groups=8), nn.Hardsigmoid())
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.stem(x)
        y = x * self.gate1(x)
        z = self.mix(y)
        z = self.gate2(z) * z
        return self.fc(nn.functional.adaptive_avg_pool2d(y + z, 1).flatten(1))


class SpatialAttention(nn.Module):
    """Spatial attention: features times a one-channel gate per pixel, broadcast over the
    channels (ONNX Mul of [N, C, H, W] and [N, 1, H, W]): once features * sigmoid(conv 1x1 to
    one channel), once hardsigmoid(conv 3x3 + BatchNorm to one channel) * features."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8, s=2), nn.ReLU())
        self.att1 = nn.Conv2d(8, 1, 1)
        self.mix = nn.Sequential(*conv_bn(8, 8, k=1), nn.ReLU())
        self.att2 = nn.Sequential(*conv_bn(8, 1, k=3), nn.Hardsigmoid())
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.stem(x)
        y = x * torch.sigmoid(self.att1(x))
        z = self.mix(y)
        z = self.att2(z) * z
        return self.fc(nn.functional.adaptive_avg_pool2d(y + z, 1).flatten(1))


class GroupedNet(nn.Module):
    """Grouped (not depthwise) convs, as ResNeXt / ShuffleNet use them: a 3x3 conv 8 -> 12 in
    2 groups (4 -> 6 channels each), a stride-2 3x3 conv 12 -> 12 in 4 groups (3 -> 3) and a 1x1
    conv 12 -> 8 in 4 groups, then pool and classifier."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8), nn.ReLU())
        self.g2 = nn.Sequential(*conv_bn(8, 12, groups=2), nn.ReLU6())
        self.g4 = nn.Sequential(*conv_bn(12, 12, s=2, groups=4), nn.ReLU())
        self.pw = nn.Sequential(*conv_bn(12, 8, k=1, groups=4), nn.ReLU())
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.pw(self.g4(self.g2(self.stem(x))))
        return self.fc(nn.functional.adaptive_avg_pool2d(x, 1).flatten(1))


def randomize_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = 0.5 + torch.rand(c, generator=gen)
            m.bias.data = torch.randn(c, generator=gen) * 0.2
            m.running_mean.data = torch.randn(c, generator=gen) * 0.2
            m.running_var.data = 0.5 + torch.rand(c, generator=gen)


def main():
    gen = torch.Generator().manual_seed(17)
    models = {"resnet_block": ResNetBlock, "mbv2_block": MobileNetV2Block,
              "ds_net": DepthwiseSeparable, "unsupported": Unsupported, "padded_net": PaddedNet,
              "mbv3_block": MobileNetV3Block, "sigmoid_se": SigmoidSE,
              "mean_se": MeanSE, "avgpool_pad": PaddedAvgPool, "gated_conv": GatedConv,
              "gated_hsig": GatedHardSigmoid, "spatial_attention": SpatialAttention,
              "grouped_net": GroupedNet}
    x = torch.randn(2, *INPUT, generator=gen)
    for name, cls in models.items():
        torch.manual_seed(17)
        model = cls()
        randomize_batchnorm(model, gen)
        model.eval()
        path = os.path.join(OUT, name + ".onnx")
        # PRESERVE keeps BatchNormalization nodes (EVAL would fold them into the convs).
        # PyTorch 1.13 exports ZeroPad2d at opset >= 11 as a subgraph computing the pads
        # (ConstantOfShape, Slice, ...), which piconas does not import; opset 10 gives one Pad.
        opset = 10 if name == "padded_net" else 14
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["images"],
                          output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
        with torch.no_grad():
            logits = model(x)
        expected = {
            "generated_by": "tests/onnx/make_models.py with torch " + torch.__version__ +
                            " (python " + sys.version.split()[0] + ")",
            "input_shape": list(x.shape),
            "input": x.flatten().tolist(),
            "logits_shape": list(logits.shape),
            "logits": logits.flatten().tolist(),
        }
        with open(os.path.join(OUT, name + ".expected.json"), "w") as f:
            json.dump(expected, f, indent=1)
            f.write("\n")
        print(name, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
