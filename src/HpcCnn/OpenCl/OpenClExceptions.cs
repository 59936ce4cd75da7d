namespace HpcCnn.OpenCl;

/// <summary>
/// OpenCL cannot be used on this machine: no loader (libOpenCL.so.1), no platform, or no device
/// that matches the selection. The message says what to install or which devices exist.
/// </summary>
public sealed class OpenClUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An OpenCL call failed; <see cref="ErrorName"/> is the error code's name, e.g. <c>OutOfResources (-5)</c>.</summary>
public class OpenClException(string call, int errorCode, string? detail = null)
    : Exception($"{call} failed with {OpenClPlatforms.ErrorName(errorCode)}{(detail is null ? "" : ": " + detail)}")
{
    /// <summary>The OpenCL function that failed, e.g. <c>clEnqueueNDRangeKernel</c>.</summary>
    public string Call { get; } = call;

    /// <summary>The raw error code (negative).</summary>
    public int ErrorCode { get; } = errorCode;

    public string ErrorName { get; } = OpenClPlatforms.ErrorName(errorCode);
}

/// <summary>A kernel program failed to compile; <see cref="BuildLog"/> holds the compiler's output.</summary>
public sealed class OpenClBuildException(string program, string options, int errorCode, string buildLog)
    : OpenClException("clBuildProgram", errorCode, $"program {program} with options '{options}'\n{buildLog}")
{
    public string Program { get; } = program;
    public string Options { get; } = options;
    public string BuildLog { get; } = buildLog;
}
