using HpcCnn.Problems;

namespace HpcCnn.OpenCl;

/// <summary>
/// The first step of a layer's backward passes on OpenCL: dL/dz = act'(y)·dL/dy into a buffer of
/// the plan (eltwise.cl's backward kernel), or dL/dy itself without an activation.
/// </summary>
internal sealed class PreActivation
{
    private readonly OpenClDevice device;
    private readonly ClHandle? kernel, buffer;
    private readonly nuint groupSize;
    private readonly long length;

    public PreActivation(PlanRunner runner, Activation activation, float alpha, long length)
    {
        device = runner.Device;
        this.length = length;
        if (activation == Activation.None) return;
        kernel = runner.Own(device.CreateKernel(device.Program("eltwise", ""), "eltwise_backward_v"));
        buffer = runner.Own(device.CreateBuffer(length));
        device.SetArgument(kernel, 2, buffer);
        device.SetArgument(kernel, 3, length);
        device.SetArgument(kernel, 4, (int)activation);
        device.SetArgument(kernel, 5, alpha);
        groupSize = device.WorkGroupSize(kernel, 64);
    }

    /// <summary>Whether a kernel runs first (the plan then reports it in its algorithm).</summary>
    public bool Active => kernel is not null;

    /// <summary>Queues dL/dz and returns its buffer; call under the plan's lock.</summary>
    public ClHandle Enqueue(ClHandle diffOutput, ClHandle? output)
    {
        if (kernel is null) return diffOutput;
        device.SetArgument(kernel, 0, output!);
        device.SetArgument(kernel, 1, diffOutput);
        device.Launch(kernel, (length + device.VectorWidth - 1) / device.VectorWidth, groupSize);
        return buffer!;
    }
}
