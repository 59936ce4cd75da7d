using System.Runtime.InteropServices;
using HpcCnn.Problems;

namespace HpcCnn.OpenCl;

/// <summary>
/// The dense layer on an OpenCL device (dense.cl), one output element per work-item in every
/// direction (forward on a GPU with the weights transposed); the backward passes start with the activation's derivative (<see cref="PreActivation"/>).
/// </summary>
internal sealed class OpenClDensePlan : DensePlan
{
    private const int CpuGroupSize = 16;

    private readonly PlanRunner runner;
    private readonly ClHandle main, weights, bias;
    private readonly ClHandle? biasGradient, transpose;
    private readonly nuint mainGroup, biasGroup, transposeGroup;
    private readonly PreActivation? preActivation;
    private readonly long items;
    private DenseShape shape;

    /// <summary>Matches struct dense_shape in dense.cl.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct DenseShape
    {
        public int Batch, InFeatures, OutFeatures, HasBias, Activation;
        public float Alpha;
    }

    public OpenClDensePlan(OpenClDevice device, DenseProblem problem, ReadOnlySpan<float> initialWeights, ReadOnlySpan<float> initialBias)
        : base(problem)
    {
        runner = new PlanRunner(device);
        try
        {
            var p = problem;
            shape = new DenseShape
            {
                Batch = p.Batch, InFeatures = OpenClLimits.ToInt(p.InFeatures, p, "the input features"), OutFeatures = p.OutChannels,
                Activation = (int)p.Activation, Alpha = p.ActivationAlpha,
            };
            var program = device.Program("dense", "");
            weights = runner.Own(device.CreateBuffer(p.WeightsLength));
            bias = runner.Own(device.CreateBuffer(p.BiasLength));
            (string kernel, items) = p.Direction switch
            {
                Direction.ForwardInference or Direction.ForwardTraining => (device.GpuStyle ? "dense_forward_t" : "dense_forward", p.OutputLength),
                Direction.BackwardData => ("dense_backward_data", p.InputLength),
                _ => ("dense_backward_weights", p.WeightsLength),
            };
            OpenClLimits.ToInt(items, p, "the work-items of one launch");
            main = runner.Own(device.CreateKernel(program, kernel));
            mainGroup = device.WorkGroupSize(main, CpuGroupSize);
            Algorithm = kernel + "_ocl";
            if (p.Direction.IsForward())
            {
                device.SetArgument(main, 1, weights);
                device.SetArgument(main, 2, bias);
                if (device.GpuStyle)
                {
                    transpose = runner.Own(device.CreateKernel(program, "transpose_weights"));
                    device.SetArgument(transpose, 1, weights);
                    transposeGroup = device.WorkGroupSize(transpose, CpuGroupSize);
                }
            }
            else
            {
                if (p.Direction == Direction.BackwardData) device.SetArgument(main, 1, weights);
                else
                {
                    biasGradient = runner.Own(device.CreateKernel(program, "dense_backward_bias"));
                    biasGroup = device.WorkGroupSize(biasGradient, CpuGroupSize);
                }
                preActivation = new PreActivation(runner, p.Activation, p.ActivationAlpha, p.OutputLength);
                if (preActivation.Active) Algorithm = "eltwise_backward+" + Algorithm;
            }
            SetShape();
            if (!initialWeights.IsEmpty)
            {
                SetWeightsCore(initialWeights, initialBias);
                WeightsGiven();
            }
        }
        catch
        {
            runner.Dispose();
            throw;
        }
    }

    public override string Algorithm { get; }
    public override string Isa => "opencl";

    private void SetShape()
    {
        var device = runner.Device;
        device.SetArgument(main, Problem.Direction.IsForward() ? 4u : 3u, shape);
        if (biasGradient is not null) device.SetArgument(biasGradient, 2, shape);
        if (transpose is not null) device.SetArgument(transpose, 2, shape);
    }

    private protected override void SetWeightsCore(ReadOnlySpan<float> w, ReadOnlySpan<float> b)
    {
        using (runner.Lock())
        {
            runner.Device.Write(weights, 0, transpose is null ? w : Transposed(w));
            if (!b.IsEmpty) runner.Device.Write(bias, 0, b);
            shape.HasBias = b.IsEmpty ? 0 : 1;
            SetShape();
        }
    }

    /// <summary>Weights already on this device are copied there, never read back.</summary>
    private protected override void SetWeightsCore(DeviceBuffer w, DeviceBuffer? b)
    {
        var source = runner.Buffer(w, "weights");
        var biasSource = runner.BufferOrNull(b, "bias");
        using (runner.Lock())
        {
            if (transpose is null)
            {
                runner.Device.Copy(source, weights, Problem.WeightsLength);
            }
            else
            {
                runner.Device.SetArgument(transpose, 0, source);
                runner.Device.Launch(transpose, Problem.WeightsLength, transposeGroup);
            }
            if (biasSource is not null) runner.Device.Copy(biasSource, bias, Problem.BiasLength);
            shape.HasBias = biasSource is null ? 0 : 1;
            SetShape();
        }
    }

    /// <summary>out x in weights as in x out, the forward kernel's layout.</summary>
    private float[] Transposed(ReadOnlySpan<float> w)
    {
        int outFeatures = Problem.OutChannels, inFeatures = (int)Problem.InFeatures;
        var t = new float[w.Length];
        for (int o = 0; o < outFeatures; o++)
            for (int i = 0; i < inFeatures; i++) t[(long)i * outFeatures + o] = w[o * inFeatures + i];
        return t;
    }

    private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output)
    {
        using (runner.Lock())
        {
            var y = runner.StageOut(1, output)!;
            Launch(runner.StageIn(0, input)!, y);
            runner.Read(y, output);
        }
    }

    private protected override void ForwardCore(DeviceBuffer input, DeviceBuffer output)
    {
        using (runner.Lock()) Launch(runner.Buffer(input, nameof(input)), runner.Buffer(output, nameof(output)));
    }

    private protected override void BackwardDataCore(ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output, Span<float> diffInput)
    {
        using (runner.Lock())
        {
            var dx = runner.StageOut(2, diffInput)!;
            Launch(preActivation!.Enqueue(runner.StageIn(0, diffOutput)!, runner.StageIn(1, output)), dx);
            runner.Read(dx, diffInput);
        }
    }

    private protected override void BackwardDataCore(DeviceBuffer diffOutput, DeviceBuffer? output, DeviceBuffer diffInput)
    {
        using (runner.Lock())
            Launch(preActivation!.Enqueue(runner.Buffer(diffOutput, nameof(diffOutput)), runner.BufferOrNull(output, nameof(output))),
                runner.Buffer(diffInput, nameof(diffInput)));
    }

    private protected override void BackwardWeightsCore(ReadOnlySpan<float> input, ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output,
        Span<float> diffWeights, Span<float> diffBias)
    {
        using (runner.Lock())
        {
            var dw = runner.StageOut(3, diffWeights)!;
            var db = runner.StageOut(4, diffBias);
            WeightsGradient(runner.StageIn(0, input)!, preActivation!.Enqueue(runner.StageIn(1, diffOutput)!, runner.StageIn(2, output)), dw, db);
            runner.Read(dw, diffWeights);
            runner.Read(db, diffBias);
        }
    }

    private protected override void BackwardWeightsCore(DeviceBuffer input, DeviceBuffer diffOutput, DeviceBuffer? output,
        DeviceBuffer diffWeights, DeviceBuffer? diffBias)
    {
        using (runner.Lock())
            WeightsGradient(runner.Buffer(input, nameof(input)),
                preActivation!.Enqueue(runner.Buffer(diffOutput, nameof(diffOutput)), runner.BufferOrNull(output, nameof(output))),
                runner.Buffer(diffWeights, nameof(diffWeights)), runner.BufferOrNull(diffBias, nameof(diffBias)));
    }

    /// <summary>Forward (x → y) or backward data (dz → dx): the main kernel's first and last buffers; call under the lock.</summary>
    private void Launch(ClHandle first, ClHandle last)
    {
        var device = runner.Device;
        device.SetArgument(main, 0, first);
        device.SetArgument(main, Problem.Direction.IsForward() ? 3u : 2u, last);
        device.Launch(main, items, mainGroup);
    }

    private void WeightsGradient(ClHandle x, ClHandle dz, ClHandle dw, ClHandle? db)
    {
        var device = runner.Device;
        device.SetArgument(main, 0, x);
        device.SetArgument(main, 1, dz);
        device.SetArgument(main, 2, dw);
        device.Launch(main, items, mainGroup);
        if (db is null) return;
        device.SetArgument(biasGradient!, 0, dz);
        device.SetArgument(biasGradient!, 1, db);
        device.Launch(biasGradient!, Problem.OutChannels, biasGroup);
    }

    private protected override void ReleaseResources() => runner.Dispose();
}
