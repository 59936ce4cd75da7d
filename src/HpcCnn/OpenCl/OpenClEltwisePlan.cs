using HpcCnn.Problems;

namespace HpcCnn.OpenCl;

/// <summary>An activation on an OpenCL device, forward or backward: one launch of V elements per work-item.</summary>
internal sealed class OpenClEltwisePlan : EltwisePlan
{
    private const int CpuGroupSize = 64;

    private readonly PlanRunner runner;
    private readonly ClHandle kernel;
    private readonly nuint groupSize;
    private readonly long items;

    public OpenClEltwisePlan(OpenClDevice device, EltwiseProblem problem) : base(problem)
    {
        runner = new PlanRunner(device);
        try
        {
            bool backward = problem.Direction == Direction.BackwardData;
            kernel = runner.Own(device.CreateKernel(device.Program("eltwise", ""), backward ? "eltwise_backward_v" : "eltwise_v"));
            uint first = backward ? 3u : 2u;
            device.SetArgument(kernel, first, problem.Length);
            device.SetArgument(kernel, first + 1, (int)problem.Activation);
            device.SetArgument(kernel, first + 2, problem.Alpha);
            groupSize = device.WorkGroupSize(kernel, CpuGroupSize);
            items = (problem.Length + device.VectorWidth - 1) / device.VectorWidth;
            Algorithm = backward ? "eltwise_backward_v_ocl" : "eltwise_v_ocl";
        }
        catch
        {
            runner.Dispose();
            throw;
        }
    }

    public override string Algorithm { get; }
    public override string Isa => "opencl";

    private protected override void ForwardCore(ReadOnlySpan<float> input, Span<float> output)
    {
        using (runner.Lock())
        {
            var buffer = runner.StageIn(0, input);
            if (buffer is null) return;
            Launch(buffer, buffer);
            runner.Read(buffer, output);
        }
    }

    private protected override void ForwardCore(DeviceBuffer input, DeviceBuffer output)
    {
        using (runner.Lock()) Launch(runner.Buffer(input, nameof(input)), runner.Buffer(output, nameof(output)));
    }

    private protected override void BackwardCore(ReadOnlySpan<float> output, ReadOnlySpan<float> diffOutput, Span<float> diffInput)
    {
        using (runner.Lock())
        {
            var y = runner.StageIn(0, output);
            var dy = runner.StageIn(1, diffOutput);
            if (y is null || dy is null) return;
            Launch(y, dy, dy);
            runner.Read(dy, diffInput);
        }
    }

    private protected override void BackwardCore(DeviceBuffer output, DeviceBuffer diffOutput, DeviceBuffer diffInput)
    {
        using (runner.Lock())
            Launch(runner.Buffer(output, nameof(output)), runner.Buffer(diffOutput, nameof(diffOutput)), runner.Buffer(diffInput, nameof(diffInput)));
    }

    /// <summary>Sets the buffer arguments in order and launches; call under the lock.</summary>
    private void Launch(params ReadOnlySpan<ClHandle> buffers)
    {
        for (int i = 0; i < buffers.Length; i++) runner.Device.SetArgument(kernel, (uint)i, buffers[i]);
        runner.Device.Launch(kernel, items, groupSize);
    }

    private protected override void ReleaseResources() => runner.Dispose();
}
