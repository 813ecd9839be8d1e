using System.Buffers.Binary;

namespace EdgeOps.Trust.Ssh;

/// <summary>Reads the SSH wire encoding (RFC 4251): uint32 lengths and length-prefixed strings.</summary>
internal ref struct SshReader(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> _rest = data;

    public readonly bool AtEnd => _rest.IsEmpty;

    public uint ReadUInt32()
    {
        if (_rest.Length < 4)
        {
            throw new FormatException("truncated SSH data");
        }

        var value = BinaryPrimitives.ReadUInt32BigEndian(_rest);
        _rest = _rest[4..];
        return value;
    }

    public ReadOnlySpan<byte> ReadString()
    {
        var length = ReadUInt32();
        if (length > _rest.Length)
        {
            throw new FormatException("SSH string longer than its data");
        }

        var value = _rest[..(int)length];
        _rest = _rest[(int)length..];
        return value;
    }

    public string ReadText() => System.Text.Encoding.UTF8.GetString(ReadString());

    public static byte[] String(ReadOnlySpan<byte> value)
    {
        var buffer = new byte[4 + value.Length];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)value.Length);
        value.CopyTo(buffer.AsSpan(4));
        return buffer;
    }
}
