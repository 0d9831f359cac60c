function __jobctl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __jobctl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __jobctl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __jobctl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __jobctl_parse_tokens -S
    set -l unparsed_tokens (__jobctl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'jobctl'
        __jobctl_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'status'
            __jobctl_parse_subcommand -r 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'version' 'h/help'
        case 'stats'
            __jobctl_parse_subcommand 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'version' 'h/help'
        case 'jobs'
            __jobctl_parse_subcommand 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'state=' 'limit=' 'cursor=' 'version' 'h/help'
        case 'show'
            __jobctl_parse_subcommand 2 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'version' 'h/help'
        case 'help'
            __jobctl_parse_subcommand -r 1 'version'
        end
    end
end

function __jobctl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __jobctl_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __jobctl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __jobctl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__jobctl_tokens -p)
    if test -z "$(__jobctl_tokens -t)"
        set -l index (count (__jobctl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'jobctl' -f
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'status' -d 'Show every queue on one screen: counts, paused flag and the age of the oldest waiting job.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'stats' -d 'Show one queue in detail: counts per state, limits, paused flag, stalled candidates.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'jobs' -d 'List the jobs of a queue in one state, a page at a time.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'show' -d 'Show every field of one job: data, options, result, failure, attempts, lock and logs.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" state' -l 'state' -d 'waiting, prioritized, delayed, active, completed, failed, waiting-children or paused (legacy list).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" limit' -l 'limit' -d 'Jobs per page (1 to 10000).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" cursor' -l 'cursor' -d 'Continue after the page that printed this cursor.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl help" version' -l 'version' -d 'Show the version.'
