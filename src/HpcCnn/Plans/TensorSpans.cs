using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HpcCnn;

/// <summary>The checks behind the tensor overloads: a shape, dense row-major strides, and the flat span that then follows.</summary>
internal static class TensorSpans
{
    /// <summary>The tensor's elements as a flat span, after checking that it has exactly <paramref name="shape"/> and is dense row-major.</summary>
    public static ReadOnlySpan<float> Flat(in ReadOnlyTensorSpan<float> tensor, scoped ReadOnlySpan<long> shape, string name,
        string shapeFrom = "the problem needs")
    {
        Check(tensor.Lengths, tensor.Strides, shape, name, shapeFrom);
        return MemoryMarshal.CreateReadOnlySpan(ref Unsafe.AsRef(in tensor.GetPinnableReference()), checked((int)tensor.FlattenedLength));
    }

    /// <inheritdoc cref="Flat(in ReadOnlyTensorSpan{float}, ReadOnlySpan{long}, string, string)"/>
    public static Span<float> Flat(in TensorSpan<float> tensor, scoped ReadOnlySpan<long> shape, string name, string shapeFrom = "the problem needs")
    {
        Check(tensor.Lengths, tensor.Strides, shape, name, shapeFrom);
        return MemoryMarshal.CreateSpan(ref tensor.GetPinnableReference(), checked((int)tensor.FlattenedLength));
    }

    /// <summary>The shape of a tensor that gives the shape the others must have (elementwise calls: any shape, all alike).</summary>
    public static long[] ShapeOf(ReadOnlySpan<nint> lengths)
    {
        var shape = new long[lengths.Length];
        for (var i = 0; i < shape.Length; i++) shape[i] = lengths[i];
        return shape;
    }

    /// <summary>Exactly <paramref name="shape"/>, with row-major strides (no gaps, no broadcast, no transposition).</summary>
    private static void Check(ReadOnlySpan<nint> lengths, ReadOnlySpan<nint> strides, scoped ReadOnlySpan<long> shape, string name, string shapeFrom)
    {
        var same = lengths.Length == shape.Length;
        for (var i = 0; same && i < shape.Length; i++) same = lengths[i] == shape[i];
        if (!same)
            throw new ArgumentException($"{name} has shape [{string.Join(", ", lengths.ToArray())}]; {shapeFrom} [{string.Join(", ", shape.ToArray())}]", name);
        long expected = 1;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] > 1 && strides[i] != expected)
                throw new ArgumentException($"{name} must be dense in row-major (NCHW) order; its strides are [{string.Join(", ", strides.ToArray())}]", name);
            expected *= shape[i];
        }
    }
}
