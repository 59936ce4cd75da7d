using Microsoft.ML.OnnxRuntime;
using HpcCnn.Problems;

namespace HpcCnn.Benchmarks;

/// <summary>An ONNX Runtime session over one node, run on managed arrays without copies.</summary>
internal sealed class OnnxRuntimeBaseline : IDisposable
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly OrtValue input, output;
    private static readonly string[] InputNames = ["X"], OutputNames = ["Y"];

    public OnnxRuntimeBaseline(byte[] model, int threads, float[] x, long[] xShape, float[] y, long[] yShape)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        session = new InferenceSession(model, options);
        input = OrtValue.CreateTensorValueFromMemory(x, xShape);
        output = OrtValue.CreateTensorValueFromMemory(y, yShape);
    }

    public void Run() => session.Run(runOptions, InputNames, [input], OutputNames, [output]);

    private bool disposed;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        input.Dispose();
        output.Dispose();
        runOptions.Dispose();
        session.Dispose();
    }

    public static long[] Shape(int n, int c, long h, long w) => [n, c, h, w];
}
