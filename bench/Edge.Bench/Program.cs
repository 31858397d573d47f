using EdgeTL.Bench;

return args.FirstOrDefault() switch
{
    "extract" => ExtractionBenchmark.Run(args.Skip(1).ToArray()),
    "train" => TrainingBenchmark.Run(args.Skip(1).ToArray()),
    "agent" => AgentBenchmark.Run(args.Skip(1).ToArray()),
    "shifts" => ShiftRecoveryBenchmark.Run(args.Skip(1).ToArray()),
    "gpu-check" => GpuCheck.Run(args.Skip(1).ToArray()),
    "memory-child" => TrainingBenchmark.MemoryChild(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.WriteLine("""
        edgetl-bench: speed measured against the PyTorch peer (Debian python3-torch) in one run.

          extract [--archs resnet18,resnet50,mobilenet_v2] [--sizes 64,224] [--rounds 3]
                  [--seconds 3] [--batch 16] [--threads 2] [--int8] [--mlnet] [--mlnet-fixed] [--profile]
              Feature-extraction img/s of the frozen backbone: ONNX Runtime (EdgeTL's path),
              TorchSharp eager and PyTorch eager, interleaved round by round; medians, ratios,
              and ONNX Runtime's GFLOP/s as a share of a large SGEMM's, measured in the same run.
              --int8 adds our calibrated QDQ int8 against ONNX Runtime fp32 and PyTorch's int8;
              --mlnet adds ML.NET's ImageNet ResNet-18 to the int8 rows, as import ships it (any
              batch); --mlnet-fixed also its files as NuGet has them (a fixed batch of 1, run image
              by image); --profile prints ONNX Runtime's per-kernel profile of each int8 session.
          train [--archs resnet18,mobilenet_v2] [--sizes 64,224] [--rounds 3] [--seconds 3] [--batch 16]
                [--modes progressive,surgical] [--sections steps,modes,cache,epochs,memory]
              Full fine-tune step img/s (TorchSharp fp32 and bf16 against PyTorch eager fp32),
              the device's backbone modes against PyTorch, each progressive phase with the
              frozen-prefix cache against recomputing the prefix, a head-only epoch on cached
              features against a full fine-tune epoch, and peak training memory of head-only,
              progressive and full fine-tuning.
          agent [--parts a,b,c] [--seconds 5] [--warmup 3] [--window 64]
                [--step-seconds 10] [--rates 100,200,400,800,1600,3200]
                [--minutes 10] [--soak-rate 100] [--telemetry-ms 10] [--sample-seconds 5]
              The device agent's messaging, on a loopback mosquitto the bench starts: (a) metrics/s
              through the durable outbox against raw MQTTnet QoS 1, to mosquitto and to the embedded
              broker, after --warmup s of both untimed, the outbox publishing --window QoS 1 messages
              at a time; (b) status command → result latency p50/p99, stepping the rate up until
              p99 > 50 ms; (c) the agent process's RSS and threads over --minutes with commands
              and metrics flowing.
          shifts [--seeds 3] [--pretrain-epochs 3] [--threads 2] [--shifts inverted,noiselowcontrast]
                 [--methods head,mmd,dann,bn,bn-all,tent,surgical,bn+surgical,progressive] [--bn-groups stem,stage1] [--smoke]
              Recovery from input shifts (inverted; noise σ 0.25 + contrast 0.5) on Fashion-MNIST
              classes 5–9, resnet18 at 32 px pretrained on 0–4: source-only, head, head-MMD, DANN,
              bn, tent, surgical and progressive side by side (held-out shifted and clean
              accuracy, the promotion guard's verdict), and where each shift is localized.
          gpu-check [--model DIR] [--batch 16] [--seconds 3] [--size 224]
              The CUDA and TensorRT execution providers on a packaged backbone, fp32 and fp16,
              against ONNX Runtime's CPU output (max |Δ| relative to scale) and img/s. DIR: an
              installed version or unpacked package (default: the demo's newest). Exit 1 when a
              provider that ran disagrees with the CPU; providers that do not load are skipped.
        """);
    return 2;
}
