using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using EdgeOps.Fleet.Diagnostics;

namespace EdgeOps.Fleet.Yaml;

/// <summary>
/// A fast reader for the plain block YAML that nearly every fleet file is written in: block mappings and
/// sequences, single-line plain and quoted scalars, comments, <c>{}</c> and <c>[]</c>, and <c>---</c>
/// between documents. It builds exactly the tree <see cref="YamlReader"/> builds through YamlDotNet (the
/// same values, kinds and positions) and declines, returning false, at the first thing outside that
/// subset: anchors, aliases, tags, flow collections with content, block and multi-line scalars, escapes,
/// merge keys, duplicate keys, tabs, odd indentation, and anything YAML would call an error. A declined
/// text is read again by the full reader, which also reports every problem; this one never does.
/// </summary>
internal static class BlockYamlReader
{
    /// <summary>Short scalars kept per thread, so the keys and values that repeat across thousands of files are one string each.</summary>
    private const int MaxPooledLength = 32;
    private const int MaxPooledStrings = 8192;

    [ThreadStatic]
    private static Dictionary<string, string>? _pool;

    public static bool TryRead(string path, string text, YamlLimits limits, out List<Node?> documents)
    {
        documents = [];
        if (!IsPlainText(text))
        {
            return false;
        }

        var reader = new Cursor(path, text, limits);
        return reader.ReadStream(documents);
    }

    /// <summary>
    /// No tab, carriage return, control character, byte-order mark, surrogate, or the line and paragraph separators
    /// YamlDotNet breaks lines at: the reader counts lines and columns as YamlDotNet does only without them.
    /// </summary>
    private static bool IsPlainText(string text)
    {
        foreach (var c in text)
        {
            if (c < ' ' ? c != '\n' : c is (>= '\u007f' and <= '\u009f') or '\u2028' or '\u2029' or '\ufeff' or '\ufffe' or '\uffff' or (>= '\ud800' and <= '\udfff'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Pooled(ReadOnlySpan<char> span)
    {
        if (span.Length > MaxPooledLength)
        {
            return span.ToString();
        }

        var pool = _pool ??= new Dictionary<string, string>(StringComparer.Ordinal);
        var lookup = pool.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(span, out var pooled))
        {
            return pooled;
        }

        var created = span.ToString();
        if (pool.Count >= MaxPooledStrings)
        {
            pool.Clear();
        }

        pool[created] = created;
        return created;
    }

    /// <summary>Reads line by line; <see cref="_line"/> is the current content line (blank and comment lines are skipped).</summary>
    private sealed class Cursor(string path, string text, YamlLimits limits)
    {
        private readonly string _path = path;
        private readonly string _text = text;
        private readonly YamlLimits _limits = limits;
        private long _nodes;
        private long _bytes;

        // One list per nesting depth, reused for every mapping and sequence read at that depth.
        private readonly List<List<Node>> _items = [];
        private readonly List<List<KeyValuePair<ScalarNode, Node>>> _entries = [];

        // The current content line: where it starts in the text, its number (1-based), its indentation,
        // and where its content ends (before any comment and trailing spaces). _start moves past a "- "
        // when a sequence item's content sits on the same line.
        private int _lineStart;
        private int _lineNumber;
        private int _indent;
        private int _start;
        private int _end;
        private int _next;
        private bool _atEnd;

        public bool ReadStream(List<Node?> documents)
        {
            _next = 0;
            _lineNumber = 0;
            if (!Advance())
            {
                return false;
            }

            var explicitStart = false;
            while (!_atEnd)
            {
                if (IsDocumentMarker())
                {
                    if (explicitStart)
                    {
                        // "---" straight after "---": an empty document.
                        documents.Add(null);
                    }

                    explicitStart = true;
                    if (!Advance())
                    {
                        return false;
                    }

                    continue;
                }

                if (_indent != 0 || _text[_lineStart] is '%' or '.' && IsDirectiveOrEnd())
                {
                    return false;
                }

                if (ReadBlock(0) is not { } node)
                {
                    return false;
                }

                documents.Add(node);
                explicitStart = false;
                if (!_atEnd && !IsDocumentMarker())
                {
                    // Content left at the top level that is not the next document: YAML's error to report.
                    return false;
                }

                if (!_atEnd)
                {
                    explicitStart = true;
                    if (!Advance())
                    {
                        return false;
                    }
                }
            }

            if (explicitStart)
            {
                documents.Add(null);
            }

            return true;
        }

        private bool IsDirectiveOrEnd() => _text[_lineStart] == '%' || _text.AsSpan(_lineStart).StartsWith("...");

        /// <summary>A line that is exactly "---" (a comment may follow after a space).</summary>
        private bool IsDocumentMarker() =>
            _start == _lineStart && _end - _lineStart == 3 && _text.AsSpan(_lineStart, 3).SequenceEqual("---");

        /// <summary>
        /// Moves to the next line with content. False when the text has something this reader does not take
        /// (a line starting with "---" that is not a plain marker).
        /// </summary>
        private bool Advance()
        {
            while (_next < _text.Length)
            {
                var lineStart = _next;
                var newline = _text.IndexOf('\n', lineStart);
                var lineEnd = newline < 0 ? _text.Length : newline;
                _next = newline < 0 ? _text.Length : newline + 1;
                _lineNumber++;
                var first = lineStart;
                while (first < lineEnd && _text[first] == ' ')
                {
                    first++;
                }

                if (first == lineEnd || _text[first] == '#')
                {
                    continue;
                }

                _lineStart = lineStart;
                _start = first;
                _end = ContentEnd(first, lineEnd);
                var marker = IsDocumentMarker();
                if (first == lineStart && !marker && _text.AsSpan(first, lineEnd - first).StartsWith("---"))
                {
                    return false;
                }

                // A document marker is less indented than any block, so it ends them all.
                _indent = marker ? -1 : first - lineStart;
                return true;
            }

            _atEnd = true;
            _indent = -1;
            return true;
        }

        /// <summary>Where a line's content ends: before a comment (a '#' after a space, outside quotes) and trailing spaces.</summary>
        private int ContentEnd(int from, int lineEnd)
        {
            var quote = '\0';
            var end = lineEnd;
            for (var i = from; i < lineEnd; i++)
            {
                var c = _text[i];
                if (quote != '\0')
                {
                    if (c == quote)
                    {
                        quote = '\0';
                    }
                }
                else if (c == '#' && i > from && _text[i - 1] == ' ')
                {
                    end = i;
                    break;
                }
                else if (c is '"' or '\'' && (i == from || _text[i - 1] == ' '))
                {
                    // A quote that opens a scalar (after a space, a ': ' or a '- '); one inside a plain scalar is text.
                    quote = c;
                }
            }

            while (end > from && _text[end - 1] == ' ')
            {
                end--;
            }

            return end;
        }

        private static List<T> Scratch<T>(List<List<T>> lists, int depth)
        {
            while (lists.Count <= depth)
            {
                lists.Add([]);
            }

            var list = lists[depth];
            list.Clear();
            return list;
        }

        private SourceLocation Here(int position) => new(_path, _lineNumber, position - _lineStart + 1);

        /// <summary>A block node whose first line is the current one, indented by <paramref name="indent"/> (the column of its content).</summary>
        private Node? ReadBlock(int depth)
        {
            if (depth + 2 > _limits.MaxDepth)
            {
                return null;
            }

            if (IsSequenceItem())
            {
                return ReadSequence(depth);
            }

            return FindKeyEnd() >= 0 ? ReadMapping(depth) : null;
        }

        private bool IsSequenceItem() => _text[_start] == '-' && (_start + 1 == _end || _text[_start + 1] == ' ');

        private Node? ReadSequence(int depth)
        {
            var indent = _start - _lineStart;
            var location = Here(_start);
            var items = Scratch(_items, depth);
            if (!Count(0))
            {
                return null;
            }

            while (!_atEnd && _indent == indent && _start == _lineStart + indent && IsSequenceItem())
            {
                var content = _start + 1;
                while (content < _end && _text[content] == ' ')
                {
                    content++;
                }

                Node? item;
                if (content == _end)
                {
                    // "-" alone: the item is the block on the lines below, more indented.
                    if (!Advance() || _atEnd || _indent <= indent)
                    {
                        return null;
                    }

                    item = ReadBlock(depth + 1);
                }
                else if (_text[content] == '-' && (content + 1 == _end || _text[content + 1] == ' '))
                {
                    return null; // "- - x": a sequence in a sequence on one line
                }
                else
                {
                    _start = content;
                    item = FindKeyEnd() >= 0 ? ReadMapping(depth + 1) : ReadLastScalar(indent);
                }

                if (item is null)
                {
                    return null;
                }

                items.Add(item);
            }

            return EndOfBlock(indent) ? new SequenceNode([.. items], location) : null;
        }

        /// <summary>After a block at <paramref name="indent"/>: what follows must be less indented (or the same, for a mapping's next key).</summary>
        private bool EndOfBlock(int indent) => _atEnd || _indent < indent || (_indent == indent && _start == _lineStart + indent);

        private Node? ReadMapping(int depth)
        {
            var indent = _start - _lineStart;
            var location = Here(_start);
            var entries = Scratch(_entries, depth);
            if (!Count(0))
            {
                return null;
            }

            while (!_atEnd && _start == _lineStart + indent && (entries.Count == 0 || _indent == indent))
            {
                var keyEnd = FindKeyEnd();
                if (keyEnd < 0 || ReadKey(keyEnd) is not { } key || key.Value == "<<")
                {
                    return null;
                }

                foreach (var entry in entries)
                {
                    if (entry.Key.Value == key.Value)
                    {
                        return null; // a duplicate key: the full reader reports it
                    }
                }

                var valueStart = keyEnd + 1;
                while (valueStart < _end && _text[valueStart] == ' ')
                {
                    valueStart++;
                }

                Node? value;
                if (valueStart < _end)
                {
                    _start = valueStart;
                    value = ReadLastScalar(indent);
                }
                else
                {
                    if (!Advance() || _atEnd)
                    {
                        return null; // "key:" with nothing: a null whose position YamlDotNet puts elsewhere
                    }

                    if (_indent > indent)
                    {
                        value = ReadBlock(depth + 1);
                    }
                    else if (_indent == indent && IsSequenceItem())
                    {
                        value = ReadSequence(depth + 1); // a list under a key, at the key's own indentation
                    }
                    else
                    {
                        return null;
                    }
                }

                if (value is null)
                {
                    return null;
                }

                entries.Add(new(key, value));
                if (!_atEnd && _indent > indent)
                {
                    return null;
                }
            }

            return EndOfBlock(indent) ? new MappingNode([.. entries], location) : null;
        }

        /// <summary>The position of the ':' that ends a key on the current line from <see cref="_start"/>, or -1.</summary>
        private int FindKeyEnd()
        {
            var c = _text[_start];
            if (c is '"' or '\'')
            {
                var close = QuotedEnd(_start);
                return close >= 0 && close + 1 < _end && _text[close + 1] == ':' && (close + 2 == _end || _text[close + 2] == ' ') ? close + 1 : -1;
            }

            for (var i = _start; i < _end; i++)
            {
                if (_text[i] == ':' && (i + 1 == _end || _text[i + 1] == ' '))
                {
                    return i;
                }
            }

            return -1;
        }

        private ScalarNode? ReadKey(int colon)
        {
            var location = Here(_start);
            if (_text[_start] is '"' or '\'')
            {
                return Quoted(_start, location);
            }

            return colon > _start && IsIdentifier(_text.AsSpan(_start, colon - _start)) ? Plain(_start, colon, location) : null;
        }

        /// <summary>
        /// A scalar from <see cref="_start"/> to the end of the line (or <c>{}</c>, <c>[]</c>), then the move to the next
        /// line, which must not continue it: a more indented line would make it a multi-line scalar.
        /// </summary>
        private Node? ReadLastScalar(int indent)
        {
            var location = Here(_start);
            Node? node;
            if (_text[_start] is '[' or '{')
            {
                node = ReadFlow(location);
            }
            else if (_text[_start] is '"' or '\'')
            {
                node = QuotedEnd(_start) == _end - 1 ? Quoted(_start, location) : null;
            }
            else
            {
                node = Plain(_start, _end, location);
            }

            if (node is null || !Advance())
            {
                return null;
            }

            return _atEnd || _indent <= indent ? node : null;
        }

        /// <summary>
        /// A flow sequence or mapping of scalars that fills the rest of the line (<c>[a, 'b']</c>, <c>{k: v}</c>); nested
        /// flow collections, empty entries, a trailing comma or a key without a value decline.
        /// </summary>
        private Node? ReadFlow(SourceLocation location)
        {
            var mapping = _text[_start] == '{';
            var close = mapping ? '}' : ']';
            if (_text[_end - 1] != close || !Count(0))
            {
                return null;
            }

            var items = ImmutableArray.CreateBuilder<Node>();
            var entries = ImmutableArray.CreateBuilder<KeyValuePair<ScalarNode, Node>>();
            var i = SkipSpaces(_start + 1);
            if (i == _end - 1)
            {
                return mapping ? new MappingNode([], location) : new SequenceNode([], location);
            }

            while (true)
            {
                if (FlowScalar(ref i, close, key: mapping) is not { } first)
                {
                    return null;
                }

                if (mapping)
                {
                    if (_text[i] != ':' || _text[i + 1] != ' ' || first.Value == "<<" || entries.Any(e => e.Key.Value == first.Value))
                    {
                        return null;
                    }

                    i = SkipSpaces(i + 1);
                    if (FlowScalar(ref i, close, key: false) is not { } value)
                    {
                        return null;
                    }

                    entries.Add(new(first, value));
                }
                else
                {
                    items.Add(first);
                }

                if (i == _end - 1)
                {
                    break;
                }

                if (_text[i] != ',')
                {
                    return null;
                }

                i = SkipSpaces(i + 1);
                if (i >= _end - 1)
                {
                    return null; // a trailing comma
                }
            }

            return mapping ? new MappingNode(entries.ToImmutable(), location) : new SequenceNode(items.ToImmutable(), location);
        }

        private int SkipSpaces(int i)
        {
            while (i < _end && _text[i] == ' ')
            {
                i++;
            }

            return i;
        }

        /// <summary>
        /// A scalar inside a flow collection, from <paramref name="i"/>, which is left on the ',', closing bracket or
        /// (for a key) ':' after it and its spaces.
        /// </summary>
        private ScalarNode? FlowScalar(ref int i, char close, bool key)
        {
            var location = Here(i);
            ScalarNode? scalar;
            if (_text[i] is '"' or '\'')
            {
                var end = QuotedEnd(i);
                if (end < 0)
                {
                    return null;
                }

                scalar = Quoted(i, location);
                i = end + 1;
            }
            else
            {
                var end = i;
                while (end < _end - 1 && _text[end] is not (',' or '[' or ']' or '{' or '}' or '#') && !(key && _text[end] == ':' && _text[end + 1] == ' '))
                {
                    end++;
                }

                var to = end;
                while (to > i && _text[to - 1] == ' ')
                {
                    to--;
                }

                if (to == i || _text[end] is '[' or '{' or '#' || (_text[end] is ']' or '}' && _text[end] != close))
                {
                    return null;
                }

                scalar = IsFlowWord(_text.AsSpan(i, to - i), key) ? Plain(i, to, location) : null;
                i = end;
            }

            i = SkipSpaces(i);
            return scalar is not null && i < _end ? scalar : null;
        }

        /// <summary>
        /// A plain key as keys are written: letters, digits, '-', '_', '.', '/', not starting with '-'. Anything more
        /// (spaces, '*', '&amp;', ...) YamlDotNet reads in ways of its own, so the full reader gets it.
        /// </summary>
        private static bool IsIdentifier(ReadOnlySpan<char> span)
        {
            if (span[0] == '-')
            {
                return false;
            }

            foreach (var c in span)
            {
                if (!(char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or '/'))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>A plain scalar in a flow collection: a key as above, or a value of words (letters, digits, spaces and '-_./+~=').</summary>
        private static bool IsFlowWord(ReadOnlySpan<char> span, bool key)
        {
            if (key)
            {
                return IsIdentifier(span);
            }

            foreach (var c in span)
            {
                if (!(char.IsLetterOrDigit(c) || c is ' ' or '-' or '_' or '.' or '/' or '+' or '~' or '='))
                {
                    return false;
                }
            }

            return true;
        }

        private ScalarNode? Plain(int from, int to, SourceLocation location)
        {
            var span = _text.AsSpan(from, to - from);
            var first = span[0];
            if (first is '[' or ']' or '{' or '}' or '#' or '&' or '*' or '!' or '|' or '>' or '%' or '@' or '`' or ',' or '?' or ':' or '-'
                && !(first == '-' && span.Length > 1 && span[1] is not ('-' or ' ')))
            {
                return null;
            }

            if (span.IndexOfAny("{}[]") >= 0 || span.Contains(": ", StringComparison.Ordinal) || span[^1] == ':' || span.Contains(" #", StringComparison.Ordinal))
            {
                return null;
            }

            var value = Pooled(span);
            return Count(value.Length) ? new ScalarNode(value, ScalarResolver.Resolve(value), location, isSingleLinePlain: true) : null;
        }

        /// <summary>The closing quote of a quoted scalar opening at <paramref name="open"/> on this line, or -1 (no escapes are taken).</summary>
        private int QuotedEnd(int open)
        {
            var quote = _text[open];
            for (var i = open + 1; i < _end; i++)
            {
                var c = _text[i];
                if (c == '\\' && quote == '"')
                {
                    return -1;
                }

                if (c == quote)
                {
                    if (quote == '\'' && i + 1 < _end && _text[i + 1] == '\'')
                    {
                        i++;
                        continue;
                    }

                    return i;
                }
            }

            return -1;
        }

        private ScalarNode? Quoted(int open, SourceLocation location)
        {
            var close = QuotedEnd(open);
            if (close < 0)
            {
                return null;
            }

            var span = _text.AsSpan(open + 1, close - open - 1);
            var value = _text[open] == '\'' && span.Contains("''", StringComparison.Ordinal) ? span.ToString().Replace("''", "'", StringComparison.Ordinal) : Pooled(span);
            return Count(value.Length) ? new ScalarNode(value, ScalarKind.String, location, isSingleLinePlain: false, isQuoted: true) : null;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private bool Count(int bytes)
        {
            _nodes++;
            _bytes += bytes;
            return _nodes <= _limits.MaxExpandedNodes && _bytes <= _limits.MaxExpandedBytes;
        }
    }
}
