using System.Buffers.Binary;
using System.Buffers.Text;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using csFastFloat;

namespace MlPlatform.Inference.Protocol;

/// <summary>
/// The fast path for FP32/FP64 <c>data</c>: one pass over the raw bytes of a number or a (nested) array of numbers, which checks
/// the JSON grammar itself (the header pass passes over data arrays without reading them), with the common decimal forms converted
/// by exact arithmetic rather than through
/// <see cref="System.Text.Json.Utf8JsonReader"/> tokens and <see cref="Utf8Parser"/> (profiling put those at a quarter of the
/// scorer's CPU on JSON requests). Results are bit-identical to <see cref="System.Text.Json.Utf8JsonReader.TryGetSingle"/> and
/// <see cref="System.Text.Json.Utf8JsonReader.TryGetDouble"/>: when a value falls outside the exact path the scanner parses it
/// with csFastFloat, which rounds correctly as <see cref="Utf8Parser"/> (their parse) does, and it gives up (the caller re-reads with the reader, which words the error) on
/// anything that is not a finite number or when the element count does not match.
/// </summary>
internal static class JsonNumberScanner
{
    // 10^0..10^22 are exact doubles; with a mantissa below 2^53, one multiplication or division is then correctly rounded
    // (Clinger), and rounding that double to float is correct too, as 53 >= 2 * 24 + 2 (Figueroa).
    private static readonly double[] s_powersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    private const ulong MaxExactMantissa = 1UL << 53;

    /// <summary>Reads every number of <paramref name="json"/> (which starts at the <c>data</c> value) into <paramref name="destination"/>.</summary>
    /// <returns>
    /// False when the value is not valid JSON, holds anything but finite numbers, not exactly <c>destination.Length</c> of them, or
    /// arrays nested otherwise than <paramref name="shape"/> allows (the rules of <see cref="TensorJsonParser.CheckClosingArray"/>).
    /// </returns>
    public static bool TryReadSingles(ReadOnlySpan<byte> json, Span<float> destination, ReadOnlySpan<long> shape) => TryRead(json, destination, shape);

    /// <inheritdoc cref="TryReadSingles"/>
    public static bool TryReadDoubles(ReadOnlySpan<byte> json, Span<double> destination, ReadOnlySpan<long> shape) => TryRead(json, destination, shape);

    private static bool TryRead<T>(ReadOnlySpan<byte> json, Span<T> destination, ReadOnlySpan<long> shape) where T : unmanaged
    {
        var i = 0;
        var count = 0;
        var depth = 0;
        // The structure checks of TensorJsonParser's walker, done as arrays open and close: a number costs nothing more.
        // Inline arrays rather than stackalloc: a method with localloc cannot be tiered up by on-stack replacement.
        var maxDepth = Math.Max(shape.Length, 1);
        var childArrays = new DepthCounts();
        var countAtOpen = new DepthCounts();
        var valueDepth = 0;
        // JSON's grammar between values: a value may come first, after '[' or after ','; ']' may not follow ','.
        var expectValue = true;
        var afterComma = false;
        do
        {
            if ((uint)i >= (uint)json.Length)
            {
                return false;
            }
            var c = json[i];
            switch (c)
            {
                case (byte)'[':
                    if (!expectValue || depth == maxDepth || (valueDepth != 0 && depth >= valueDepth))
                    {
                        return false;
                    }
                    childArrays[depth]++;
                    depth++;
                    childArrays[depth] = 0;
                    countAtOpen[depth] = count;
                    afterComma = false;
                    i++;
                    break;
                case (byte)']':
                    if (afterComma || depth == 0
                        || TensorJsonParser.CheckClosingArray(count - countAtOpen[depth], childArrays[depth], depth, ref valueDepth, shape) is not null)
                    {
                        return false;
                    }
                    depth--;
                    expectValue = false;
                    i++;
                    break;
                case (byte)',':
                    if (expectValue || depth == 0)
                    {
                        return false;
                    }
                    expectValue = true;
                    afterComma = true;
                    i++;
                    break;
                case (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t':
                    i++;
                    break;
                case (byte)'-' or >= (byte)'0' and <= (byte)'9':
                    if (!expectValue)
                    {
                        return false;
                    }
                    // The numbers of a flat array, in the form clients write most, in one tight loop; the rest one by one below.
                    var read = ReadShortDecimalRun(json, ref i, destination[count..]);
                    count += read;
                    if (read == 0)
                    {
                        if (count >= destination.Length || !TryReadNumber(json, ref i, out destination[count]))
                        {
                            return false;
                        }
                        count++;
                    }
                    expectValue = false;
                    afterComma = false;
                    break;
                default:
                    return false;
            }
        }
        while (depth > 0);
        return count == destination.Length;
    }

    private static bool TryReadNumber<T>(ReadOnlySpan<byte> json, ref int i, out T value) where T : unmanaged
    {
        value = default;
        var start = i;
        var negative = json[i] == (byte)'-';
        if (negative)
        {
            i++;
        }
        ulong mantissa = 0;
        var significantDigits = 0;
        var exponent = 0;
        var exact = true;
        // JSON numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        if (i >= json.Length || !IsDigit(json[i]) || (json[i] == (byte)'0' && i + 1 < json.Length && IsDigit(json[i + 1])))
        {
            return false;
        }
        for (; i < json.Length && IsDigit(json[i]); i++)
        {
            Accumulate(json[i] - '0', ref mantissa, ref significantDigits, ref exact);
        }
        if (i < json.Length && json[i] == (byte)'.')
        {
            if (++i >= json.Length || !IsDigit(json[i]))
            {
                return false;
            }
            for (; i < json.Length && IsDigit(json[i]); i++)
            {
                Accumulate(json[i] - '0', ref mantissa, ref significantDigits, ref exact);
                exponent--;
            }
        }
        if (i < json.Length && (json[i] | 0x20) == (byte)'e')
        {
            i++;
            var negativeExponent = false;
            if (i < json.Length && json[i] is (byte)'+' or (byte)'-')
            {
                negativeExponent = json[i] == (byte)'-';
                i++;
            }
            if (i >= json.Length || !IsDigit(json[i]))
            {
                return false;
            }
            var written = 0;
            for (; i < json.Length && IsDigit(json[i]); i++)
            {
                // Saturates: an exponent this large is out of the exact path either way.
                written = Math.Min(written * 10 + (json[i] - '0'), 100_000);
            }
            exponent += negativeExponent ? -written : written;
        }

        if (exact && mantissa <= MaxExactMantissa && exponent is >= -22 and <= 22)
        {
            double result = mantissa;
            result = exponent < 0 ? result / s_powersOfTen[-exponent] : result * s_powersOfTen[exponent];
            if (negative)
            {
                result = -result;
            }
            if (typeof(T) == typeof(float))
            {
                var single = (float)result;
                value = System.Runtime.CompilerServices.Unsafe.As<float, T>(ref single);
            }
            else
            {
                value = System.Runtime.CompilerServices.Unsafe.As<double, T>(ref result);
            }
            return true;
        }

        // Outside the exact path (more than 19 significant digits, a mantissa above 2^53 as every 17-digit double has, or an
        // exponent beyond 10^22): csFastFloat, correctly rounded like Utf8Parser (the parse Utf8JsonReader uses) and measured
        // 2.3x faster than it on such numbers (bench/OnlineBench --parse). The text is already a valid JSON number here.
        var text = json[start..i];
        if (typeof(T) == typeof(float))
        {
            var ok = FastFloatParser.TryParseFloat(text, out var consumed, out float single) && consumed == text.Length && float.IsFinite(single);
            value = System.Runtime.CompilerServices.Unsafe.As<float, T>(ref single);
            return ok;
        }
        else
        {
            var ok = FastDoubleParser.TryParseDouble(text, out var consumed, out double dbl) && consumed == text.Length && double.IsFinite(dbl);
            value = System.Runtime.CompilerServices.Unsafe.As<double, T>(ref dbl);
            return ok;
        }
    }

    private static readonly ulong[] s_integerPowersOfTen =
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000, 100_000_000_000,
        1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000, 10_000_000_000_000_000,
    ];

    private static readonly float[] s_singlePowersOfTen = [1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f];

    /// <summary>
    /// Reads the numbers at <paramref name="i"/> (a number, then more after single commas) as long as they take the form clients
    /// write most: <c>0.1234</c>, <c>-12.5</c>, <c>3</c> (up to 7 integer and 15 fraction digits, no exponent, within 2^53). Eight
    /// digits are read at a time (SWAR, as fast_float does) in a small loop the JIT keeps in registers: a 4-decimal FP32 image body
    /// spends most of its decode time here. It computes the mantissa and exponent of the general path (<see cref="TryReadNumber{T}"/>)
    /// and one correctly rounded operation, so results are bit-identical. It stops before the first number it does not take (and
    /// 27 bytes before the end of the body, which 8-byte reads need), with <paramref name="i"/> just after the last number read and
    /// the count returned; the general path goes on from there.
    /// </summary>
    private static int ReadShortDecimalRun<T>(ReadOnlySpan<byte> json, ref int i, Span<T> destination) where T : unmanaged
    {
        ref var first = ref MemoryMarshal.GetReference(json);
        var limit = json.Length - 27;
        var p = i;
        var count = 0;
        while (p <= limit && count < destination.Length)
        {
            // Branch-free sign: in centred data about half the numbers are negative, a branch on it mispredicts that often.
            var sign = Unsafe.Add(ref first, p) == (byte)'-' ? 1 : 0;
            var q = p + sign;
            var integerWord = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref first, q));
            var integerDigits = LeadingDigits(integerWord);
            if (integerDigits is 0 or 8 || (integerDigits > 1 && (byte)integerWord == (byte)'0'))
            {
                break;
            }
            ulong mantissa = ParseDigits(integerWord, integerDigits);
            q += integerDigits;
            var fractionDigits = 0;
            if (Unsafe.Add(ref first, q) == (byte)'.')
            {
                var fractionWord = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref first, q + 1));
                fractionDigits = LeadingDigits(fractionWord);
                if (fractionDigits == 0)
                {
                    break;
                }
                mantissa = mantissa * s_integerPowersOfTen[fractionDigits] + ParseDigits(fractionWord, fractionDigits);
                if (fractionDigits == 8)
                {
                    var secondWord = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref first, q + 9));
                    var more = LeadingDigits(secondWord);
                    if (more == 8)
                    {
                        break;
                    }
                    if (more > 0)
                    {
                        mantissa = mantissa * s_integerPowersOfTen[more] + ParseDigits(secondWord, more);
                        fractionDigits += more;
                    }
                }
                q += 1 + fractionDigits;
            }
            var next = Unsafe.Add(ref first, q);
            // 7 + 15 digits could overflow the mantissa; more than 19 leave the general path's exact branch too.
            if ((next | 0x20) == (byte)'e' || next == (byte)'.' || integerDigits + fractionDigits > 19 || mantissa > MaxExactMantissa)
            {
                break;
            }
            if (typeof(T) == typeof(float) && mantissa <= (1UL << 24) && fractionDigits <= 10)
            {
                // Mantissa and power of ten exact in float: one float division is the correctly rounded value, as the general
                // path's double division rounded to float is (53 >= 2 * 24 + 2), so both give the same bits, faster.
                var single = BitConverter.Int32BitsToSingle(
                    BitConverter.SingleToInt32Bits((float)(int)mantissa / s_singlePowersOfTen[fractionDigits]) | (sign << 31));
                destination[count] = Unsafe.As<float, T>(ref single);
            }
            else
            {
                var result = BitConverter.Int64BitsToDouble(
                    BitConverter.DoubleToInt64Bits((double)(long)mantissa / s_powersOfTen[fractionDigits]) | ((long)sign << 63));
                if (typeof(T) == typeof(float))
                {
                    var single = (float)result;
                    destination[count] = Unsafe.As<float, T>(ref single);
                }
                else
                {
                    destination[count] = Unsafe.As<double, T>(ref result);
                }
            }
            count++;
            i = q;
            if (next != (byte)',')
            {
                break;
            }
            // Python's json.dumps (and so many clients) writes ", " between numbers.
            p = q + 1;
            while (p <= limit && Unsafe.Add(ref first, p) == (byte)' ')
            {
                p++;
            }
        }
        return count;
    }

    /// <summary>How many of the word's bytes, first byte first, are ASCII digits (0 to 8).</summary>
    private static int LeadingDigits(ulong word)
    {
        // A byte's high bit is set when it is above '9' (+0x46 reaches 0x80) or below '0' (-0x30 borrows). Carries and borrows
        // only travel towards later bytes and start at a byte that is itself flagged, so the first flagged byte is exact.
        var nonDigits = ((word + 0x4646464646464646UL) | (word - 0x3030303030303030UL)) & 0x8080808080808080UL;
        return nonDigits == 0 ? 8 : BitOperations.TrailingZeroCount(nonDigits) >> 3;
    }

    /// <summary>The value of the first <paramref name="count"/> (1 to 8) digits of the word (fast_float's eight-digit SWAR step).</summary>
    private static uint ParseDigits(ulong word, int count)
    {
        // The digits moved to the word's top (the later bytes are shifted out): the rest reads as leading zeros.
        var digits = (word - 0x3030303030303030UL) << (8 * (8 - count));
        digits = digits * 10 + (digits >> 8);
        digits = (((digits & 0x000000FF000000FFUL) * 0x000F424000000064UL) + (((digits >> 16) & 0x000000FF000000FFUL) * 0x0000271000000001UL)) >> 32;
        return (uint)digits;
    }

    private static bool IsDigit(byte c) => (uint)(c - '0') <= 9;

    private static void Accumulate(int digit, ref ulong mantissa, ref int significantDigits, ref bool exact)
    {
        // Leading zeros are not significant; beyond 19 digits the mantissa could overflow and the exact path is left.
        if ((mantissa != 0 || digit != 0) && ++significantDigits > 19)
        {
            exact = false;
        }
        if (exact)
        {
            mantissa = mantissa * 10 + (ulong)digit;
        }
    }
}
