using Microsoft.Win32.SafeHandles;

namespace HpcCnn.OpenCl;

/// <summary>
/// One OpenCL object (context, queue, program, kernel or buffer) that is released exactly once,
/// by Dispose or, if the owner forgot, by the finalizer.
/// </summary>
internal sealed class ClHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public enum Kind { Context, Queue, Program, Kernel, Buffer }

    private readonly Kind kind;

    public ClHandle(nint handle, Kind kind) : base(ownsHandle: true)
    {
        SetHandle(handle);
        this.kind = kind;
    }

    /// <summary>The raw handle; only for calls made while the owner is alive and not disposed.</summary>
    public nint Value => handle;

    protected override bool ReleaseHandle()
    {
        var cl = OpenClApi.Cl;
        return kind switch
        {
            Kind.Context => cl.ReleaseContext(handle),
            Kind.Queue => cl.ReleaseCommandQueue(handle),
            Kind.Program => cl.ReleaseProgram(handle),
            Kind.Kernel => cl.ReleaseKernel(handle),
            _ => cl.ReleaseMemObject(handle),
        } == 0;
    }
}
