using System.Runtime.InteropServices;
using Google.Protobuf;
using HpcCnn.Problems;

namespace HpcCnn.Benchmarks;

/// <summary>
/// Single-node ONNX models built in memory for the ONNX Runtime baseline, written field by field
/// with Google.Protobuf's CodedOutputStream (field numbers from onnx.proto).
/// </summary>
internal static class OnnxModel
{
    private const int FloatType = 1;

    public static byte[] Conv(ConvProblem p, float[] weights, float[] bias)
    {
        var node = Message(w =>
        {
            WriteString(w, 1, "X");
            WriteString(w, 1, "W");
            WriteString(w, 1, "B");
            WriteString(w, 2, "Y");
            WriteString(w, 4, "Conv");
            WriteMessage(w, 5, Ints("kernel_shape", p.KernelHeight, p.KernelWidth));
            WriteMessage(w, 5, Ints("strides", p.StrideHeight, p.StrideWidth));
            WriteMessage(w, 5, Ints("pads", p.PadTop, p.PadLeft, p.PadBottom, p.PadRight));
            WriteMessage(w, 5, Ints("dilations", p.DilationHeight, p.DilationWidth));
            WriteMessage(w, 5, Int("group", p.Groups));
        });
        long[] wShape = [p.OutChannels, p.InChannels / p.Groups, p.KernelHeight, p.KernelWidth];
        return Model(node, [Initializer("W", wShape, weights), Initializer("B", [p.OutChannels], bias)],
            [p.Batch, p.InChannels, p.InHeight, p.InWidth], [p.Batch, p.OutChannels, p.OutHeight, p.OutWidth]);
    }

    public static byte[] Pool(PoolProblem p)
    {
        var node = Message(w =>
        {
            WriteString(w, 1, "X");
            WriteString(w, 2, "Y");
            WriteString(w, 4, p.Algorithm == PoolAlgorithm.Max ? "MaxPool" : "AveragePool");
            WriteMessage(w, 5, Ints("kernel_shape", p.KernelHeight, p.KernelWidth));
            WriteMessage(w, 5, Ints("strides", p.StrideHeight, p.StrideWidth));
            WriteMessage(w, 5, Ints("pads", p.PadTop, p.PadLeft, p.PadBottom, p.PadRight));
            if (p.Algorithm != PoolAlgorithm.Max)
                WriteMessage(w, 5, Int("count_include_pad", p.Algorithm == PoolAlgorithm.AverageIncludePadding ? 1 : 0));
        });
        return Model(node, [], [p.Batch, p.Channels, p.InHeight, p.InWidth], [p.Batch, p.Channels, p.OutHeight, p.OutWidth]);
    }

    private static byte[] Model(byte[] node, byte[][] initializers, long[] inputShape, long[] outputShape)
    {
        var graph = Message(w =>
        {
            WriteMessage(w, 1, node);
            WriteString(w, 2, "hpccnn_baseline");
            foreach (var initializer in initializers) WriteMessage(w, 5, initializer);
            WriteMessage(w, 11, ValueInfo("X", inputShape));
            WriteMessage(w, 12, ValueInfo("Y", outputShape));
        });
        return Message(w =>
        {
            w.WriteTag(1, WireFormat.WireType.Varint);
            w.WriteInt64(8); // ir_version
            WriteMessage(w, 7, graph);
            WriteMessage(w, 8, Message(o =>
            {
                WriteString(o, 1, ""); // default domain
                o.WriteTag(2, WireFormat.WireType.Varint);
                o.WriteInt64(17);      // opset
            }));
        });
    }

    private static byte[] Initializer(string name, long[] shape, float[] values) => Message(w =>
    {
        foreach (var d in shape)
        {
            w.WriteTag(1, WireFormat.WireType.Varint);
            w.WriteInt64(d);
        }
        w.WriteTag(2, WireFormat.WireType.Varint);
        w.WriteInt32(FloatType);
        WriteString(w, 8, name);
        w.WriteTag(9, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())));
    });

    private static byte[] ValueInfo(string name, long[] shape) => Message(w =>
    {
        WriteString(w, 1, name);
        WriteMessage(w, 2, Message(type => WriteMessage(type, 1, Message(tensor =>
        {
            tensor.WriteTag(1, WireFormat.WireType.Varint);
            tensor.WriteInt32(FloatType);
            WriteMessage(tensor, 2, Message(s =>
            {
                foreach (var d in shape)
                    WriteMessage(s, 1, Message(dim =>
                    {
                        dim.WriteTag(1, WireFormat.WireType.Varint);
                        dim.WriteInt64(d);
                    }));
            }));
        }))));
    });

    private static byte[] Int(string name, long value) => Message(w =>
    {
        WriteString(w, 1, name);
        w.WriteTag(3, WireFormat.WireType.Varint);
        w.WriteInt64(value);
        w.WriteTag(20, WireFormat.WireType.Varint);
        w.WriteInt32(2); // AttributeType.INT
    });

    private static byte[] Ints(string name, params long[] values) => Message(w =>
    {
        WriteString(w, 1, name);
        foreach (var v in values)
        {
            w.WriteTag(8, WireFormat.WireType.Varint);
            w.WriteInt64(v);
        }
        w.WriteTag(20, WireFormat.WireType.Varint);
        w.WriteInt32(7); // AttributeType.INTS
    });

    private static void WriteString(CodedOutputStream w, int field, string value)
    {
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteString(value);
    }

    private static void WriteMessage(CodedOutputStream w, int field, byte[] message)
    {
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.CopyFrom(message));
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        using (var output = new CodedOutputStream(stream, leaveOpen: true)) write(output);
        return stream.ToArray();
    }
}
