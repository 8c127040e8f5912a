// The compact DDPM++-style U-Net (see NetworkSpec in include/sde/nn/networks.hpp for the layout).
#include <cmath>
#include <string>
#include <vector>

#include "nn/layers.hpp"

namespace sde::detail {

namespace {

// DDPM++'s skip_rescale: a residual sum divided by sqrt 2 keeps the activations' scale as blocks stack.
const double kSkipScale = 1.0 / std::sqrt(2.0);

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1));
}

// GroupNorm, SiLU, conv; + the embedded label per channel; GroupNorm, SiLU, dropout, conv; + skip.
struct ResBlockImpl : torch::nn::Module {
  ResBlockImpl(int64_t in, int64_t out, int64_t embedding, int64_t groups, double dropout_p)
      : norm1(register_module("norm1", torch::nn::GroupNorm(groups, in))),
        conv1(register_module("conv1", conv3x3(in, out))),
        label(register_module("label", torch::nn::Linear(embedding, out))),
        norm2(register_module("norm2", torch::nn::GroupNorm(groups, out))),
        dropout(register_module("dropout", torch::nn::Dropout(dropout_p))),
        conv2(register_module("conv2", conv3x3(out, out))) {
    if (in != out) skip = register_module("skip", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& embedding) {
    torch::Tensor h = conv1(torch::silu(norm1(x)));
    h = h + label(torch::silu(embedding)).unsqueeze(-1).unsqueeze(-1);
    h = conv2(dropout(torch::silu(norm2(h))));
    return (h + (skip ? skip(x) : x)) * kSkipScale;
  }
  torch::nn::GroupNorm norm1;
  torch::nn::Conv2d conv1;
  torch::nn::Linear label;
  torch::nn::GroupNorm norm2;
  torch::nn::Dropout dropout;
  torch::nn::Conv2d conv2;
  torch::nn::Conv2d skip{nullptr};
};
TORCH_MODULE(ResBlock);

// Single-head self-attention over the H W positions.
struct AttentionImpl : torch::nn::Module {
  AttentionImpl(int64_t channels, int64_t groups)
      : norm(register_module("norm", torch::nn::GroupNorm(groups, channels))),
        qkv(register_module("qkv", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 3 * channels, 1)))),
        out(register_module("out", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 1)))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const auto parts = qkv(norm(x)).reshape({b, 3, c, h * w}).unbind(1);
    const torch::Tensor weights = torch::softmax(torch::bmm(parts[0].transpose(1, 2), parts[1]) / std::sqrt(double(c)), -1);
    const torch::Tensor attended = torch::bmm(parts[2], weights.transpose(1, 2)).reshape({b, c, h, w});
    return (x + out(attended)) * kSkipScale;
  }
  torch::nn::GroupNorm norm;
  torch::nn::Conv2d qkv, out;
};
TORCH_MODULE(Attention);

struct UNetImpl : torch::nn::Module {
  explicit UNetImpl(const NetworkSpec& spec) {
    const int64_t c0 = spec.channels, e = 4 * c0, g = spec.groups;
    const auto& mult = spec.channel_mult;
    embedding = register_module("embedding", FourierEmbedding(spec.fourier_features, spec.fourier_scale));
    embed1 = register_module("embed1", torch::nn::Linear(2 * spec.fourier_features, e));
    embed2 = register_module("embed2", torch::nn::Linear(e, e));
    classes = spec.classes;
    if (classes > 0) class_embedding = register_module("class_embedding", torch::nn::Embedding(classes + 1, e));
    input = register_module("input", conv3x3(spec.sample_shape[0], c0));
    auto attends = [&](int64_t side) {
      for (const int64_t r : spec.attention_resolutions)
        if (r == side) return true;
      return false;
    };
    // Down: record every output's channel count; the way up consumes them in reverse.
    std::vector<int64_t> skips = {c0};
    int64_t ch = c0, side = spec.sample_shape[1];
    for (size_t level = 0; level < mult.size(); ++level) {
      for (int64_t k = 0; k < spec.res_blocks; ++k) {
        down.push_back(register_module(name("down", down.size()), ResBlock(ch, c0 * mult[level], e, g, spec.dropout)));
        ch = c0 * mult[level];
        down_attention.push_back(attends(side) ? register_module(name("down_attn", down.size()), Attention(ch, g))
                                               : Attention(nullptr));
        skips.push_back(ch);
      }
      if (level + 1 < mult.size()) {
        downsample.push_back(register_module(name("downsample", level), conv3x3(ch, ch, 2)));
        skips.push_back(ch);
        side /= 2;
      }
    }
    mid1 = register_module("mid1", ResBlock(ch, ch, e, g, spec.dropout));
    mid_attention = register_module("mid_attn", Attention(ch, g));
    mid2 = register_module("mid2", ResBlock(ch, ch, e, g, spec.dropout));
    for (size_t level = mult.size(); level-- > 0;) {
      for (int64_t k = 0; k <= spec.res_blocks; ++k) {
        const int64_t skip = skips.back();
        skips.pop_back();
        up.push_back(register_module(name("up", up.size()), ResBlock(ch + skip, c0 * mult[level], e, g, spec.dropout)));
        ch = c0 * mult[level];
        up_attention.push_back(attends(side) ? register_module(name("up_attn", up.size()), Attention(ch, g))
                                             : Attention(nullptr));
      }
      if (level > 0) {
        upsample.push_back(register_module(name("upsample", level), conv3x3(ch, ch)));
        side *= 2;
      }
    }
    out_norm = register_module("out_norm", torch::nn::GroupNorm(g, ch));
    output = register_module("output", conv3x3(ch, spec.sample_shape[0]));
    torch::NoGradGuard no_grad;
    output->weight.zero_();
    output->bias.zero_();
    levels = int64_t(mult.size());
    res_blocks = spec.res_blocks;
  }

  static std::string name(const char* kind, size_t index) { return kind + std::to_string(index); }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& label, const torch::Tensor& labels) {
    torch::Tensor emb = embed2(torch::silu(embed1(embedding(label.to(x.scalar_type())))));
    if (classes > 0) emb = emb + class_embedding(class_rows(labels, classes, x.size(0), x.device()));
    std::vector<torch::Tensor> skips = {input(x)};
    torch::Tensor h = skips.back();
    size_t block = 0;
    for (int64_t level = 0; level < levels; ++level) {
      for (int64_t k = 0; k < res_blocks; ++k, ++block) {
        h = down[block]->forward(h, emb);
        if (!down_attention[block].is_empty()) h = down_attention[block]->forward(h);
        skips.push_back(h);
      }
      if (level + 1 < levels) {
        h = downsample[level]->forward(h);
        skips.push_back(h);
      }
    }
    h = mid2->forward(mid_attention->forward(mid1->forward(h, emb)), emb);
    block = 0;
    size_t up_level = 0;
    for (int64_t level = levels; level-- > 0;) {
      for (int64_t k = 0; k <= res_blocks; ++k, ++block) {
        h = up[block]->forward(torch::cat({h, skips.back()}, 1), emb);
        skips.pop_back();
        if (!up_attention[block].is_empty()) h = up_attention[block]->forward(h);
      }
      if (level > 0) {
        h = upsample[up_level++]->forward(torch::upsample_nearest2d(h, {h.size(2) * 2, h.size(3) * 2}));
      }
    }
    return output(torch::silu(out_norm(h)));
  }

  FourierEmbedding embedding{nullptr};
  torch::nn::Linear embed1{nullptr}, embed2{nullptr};
  torch::nn::Embedding class_embedding{nullptr};
  int64_t classes = 0;
  torch::nn::Conv2d input{nullptr};
  std::vector<ResBlock> down, up;
  std::vector<Attention> down_attention, up_attention;
  std::vector<torch::nn::Conv2d> downsample, upsample;
  ResBlock mid1{nullptr}, mid2{nullptr};
  Attention mid_attention{nullptr};
  torch::nn::GroupNorm out_norm{nullptr};
  torch::nn::Conv2d output{nullptr};
  int64_t levels = 0, res_blocks = 0;
};
TORCH_MODULE(UNet);

}  // namespace

BuiltNetwork build_unet(const NetworkSpec& spec) {
  const std::shared_ptr<UNetImpl> unet = UNet(spec).ptr();
  return {unet, [unet](const torch::Tensor& x, const torch::Tensor& label, const torch::Tensor& classes) {
            return unet->forward(x, label, classes);
          }};
}

}  // namespace sde::detail
