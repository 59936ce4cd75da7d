namespace HpcCnn.OpenCl;

/// <summary>
/// The padded, phase-split copy of a plan's input that pad_input (common.cl) writes before the
/// main kernel runs: rows of <c>strideW · phaseWidth</c> floats where padded column X sits at
/// <c>(X % strideW) · phaseWidth + X / strideW</c>, the fill value outside the image.
/// </summary>
internal sealed class PaddedInput
{
    private readonly OpenClDevice device;
    private readonly ClHandle kernel;
    private readonly long items;
    private readonly nuint groupSize;

    public PaddedInput(PlanRunner runner, nint program, long planes, int inHeight, int inWidth, int paddedHeight,
        int strideW, int phaseWidth, int padTop, int padLeft, float fill)
    {
        device = runner.Device;
        int rows = OpenClLimits.ToInt((long)planes * paddedHeight, "the input", "the padded rows");
        long length = (long)rows * strideW * phaseWidth;
        if (length * sizeof(float) > (long)device.Info.GlobalMemoryBytes || length > int.MaxValue)
            throw new ArgumentException($"the padded input ({length} floats) does not fit {device.Info.Name}");
        Buffer = runner.Own(device.CreateBuffer(length));
        // GPUs: one element per work-item, so neighbouring work-items write neighbouring floats.
        // CPU devices: one row per work-item, a loop each.
        items = device.GpuStyle ? length : rows;
        kernel = runner.Own(device.CreateKernel(program, device.GpuStyle ? "pad_input_elements" : "pad_input"));
        device.SetArgument(kernel, 1, Buffer);
        device.SetArgument(kernel, 2, (int)items);
        device.SetArgument(kernel, 3, inHeight);
        device.SetArgument(kernel, 4, inWidth);
        device.SetArgument(kernel, 5, paddedHeight);
        device.SetArgument(kernel, 6, strideW);
        device.SetArgument(kernel, 7, phaseWidth);
        device.SetArgument(kernel, 8, padTop);
        device.SetArgument(kernel, 9, padLeft);
        device.SetArgument(kernel, 10, fill);
        groupSize = device.WorkGroupSize(kernel, cpuSize: 16);
    }

    /// <summary>The padded copy, the main kernel's input.</summary>
    public ClHandle Buffer { get; }

    /// <summary>Queues the copy of <paramref name="input"/>; the caller holds the plan's lock.</summary>
    public void Enqueue(ClHandle input)
    {
        device.SetArgument(kernel, 0, input);
        device.Launch(kernel, items, groupSize);
    }
}
