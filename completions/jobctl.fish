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
            __jobctl_parse_subcommand -r 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'check=' 'w/watch=' 'version' 'h/help'
        case 'stats'
            __jobctl_parse_subcommand 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'sample=' 'thresholds=' 'w/watch=' 'version' 'h/help'
        case 'workers'
            __jobctl_parse_subcommand -r 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'version' 'h/help'
        case 'jobs'
            __jobctl_parse_subcommand 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'state=' 'limit=' 'cursor=' 'version' 'h/help'
        case 'show'
            __jobctl_parse_subcommand 2 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'version' 'h/help'
        case 'retry'
            __jobctl_parse_subcommand -r 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'dry-run' 'y/yes' 'failed' 'state=' 'all-queues' 'name=' 'error-match=' 'since=' 'before=' 'limit=' 'reset-attempts' 'version' 'h/help'
        case 'drain'
            __jobctl_parse_subcommand 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'dry-run' 'y/yes' 'delayed' 'version' 'h/help'
        case 'clean'
            __jobctl_parse_subcommand 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'dry-run' 'y/yes' 'completed' 'failed' 'older-than=' 'limit=' 'version' 'h/help'
        case 'promote'
            __jobctl_parse_subcommand -r 2 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'dry-run' 'y/yes' 'limit=' 'version' 'h/help'
        case 'pause'
            __jobctl_parse_subcommand -r 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'dry-run' 'y/yes' 'all' 'version' 'h/help'
        case 'resume'
            __jobctl_parse_subcommand -r 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'dry-run' 'y/yes' 'all' 'version' 'h/help'
        case 'remove'
            __jobctl_parse_subcommand -r 2 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'dry-run' 'y/yes' 'force' 'version' 'h/help'
        case 'add'
            __jobctl_parse_subcommand 2 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'dry-run' 'y/yes' 'data=' 'delay=' 'priority=' 'attempts=' 'backoff=' 'job-id=' 'lifo' 'from=' 'version' 'h/help'
        case 'run-once'
            __jobctl_parse_subcommand -r 2 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'exec=+' 'serve=+' 'noop' 'concurrency=' 'job-timeout=' 'lock-duration=' 'lock-renew=' 'limiter=' 'metrics=' 'name=' 'max-jobs=' 'max-runtime=' 'version' 'h/help'
        case 'run'
            __jobctl_parse_subcommand -r 2 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'exec=+' 'serve=+' 'noop' 'concurrency=' 'job-timeout=' 'lock-duration=' 'lock-renew=' 'limiter=' 'metrics=' 'name=' 'grace=' 'stalled-interval=' 'max-stalled-count=' 'progress=' 'listen-url=' 'version' 'h/help'
        case 'tune'
            __jobctl_parse_subcommand 1 'url=' 'prefix=' 'schema=' 'o/output=' 'json' 'connect-timeout=' 'timeout=' 'dry-run' 'y/yes' 'cpu-bound' 'io-bound' 'cores=' 'sample=' 'apply' 'version' 'h/help'
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
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'status' -d 'Show every queue on one screen: counts, workers, paused flag, age of the oldest waiting job.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'stats' -d 'Show one queue in detail: counts, limits, throughput, timings, top failures and advice.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'workers' -d 'List the workers connected to the queues: which client, where from, for how long, how idle.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'jobs' -d 'List the jobs of a queue in one state, a page at a time.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'show' -d 'Show every field of one job: data, options, result, failure, attempts, lock and logs.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'retry' -d 'Move failed (or completed) jobs back to waiting, so that workers run them again.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'drain' -d 'Delete the waiting and prioritized jobs of a queue (this deletes them; to run them, use run-once).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'clean' -d 'Delete completed or failed jobs that finished longer ago than a given age.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'promote' -d 'Move delayed jobs to waiting now, instead of at their due time.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'pause' -d 'Pause queues: BullMQ workers finish the jobs they run and take no new ones.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'resume' -d 'Resume paused queues: BullMQ workers take jobs again at once.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'remove' -d 'Delete jobs by id, with their logs and their children.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'add' -d 'Add a job, or many from a JSON Lines file, as BullMQ\'s Queue.add does.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'run-once' -d 'Process every job of a queue that is ready now, then exit (for cron).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'run' -d 'Run jobs of a queue as a long-running BullMQ worker, until SIGTERM or SIGINT.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'tune' -d 'Recommend worker settings from what a queue shows, with the numbers behind each.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_positional "jobctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" check' -l 'check' -d 'Health rules; exit 2 naming each that fails (see below).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" w watch' -s 'w' -l 'watch' -d 'Refresh every SECONDS (default 2) until Ctrl-C, with changes since the last refresh.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" sample' -l 'sample' -d 'How many of the most recent completed and of failed jobs to sample.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" thresholds' -l 'thresholds' -d 'When advice appears: KEY=VALUE,… (see below).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" w watch' -s 'w' -l 'watch' -d 'Refresh every SECONDS (default 2) until Ctrl-C, with changes since the last refresh.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl stats" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl workers" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl workers" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl workers" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl workers" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl workers" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl workers" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl workers" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl workers" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl workers" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl jobs" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
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
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" dry-run' -l 'dry-run' -d 'Show what would change (count, breakdown by job name and error, sample ids) and change nothing.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" y yes' -s 'y' -l 'yes' -d 'Go ahead without asking (required when stdin is not a terminal).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" failed' -l 'failed' -d 'Retry failed jobs (the default).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" state' -l 'state' -d 'Where the jobs are: failed or completed.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" all-queues' -l 'all-queues' -d 'Retry in every queue that has matching jobs (no job ids then).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" name' -l 'name' -d 'Only jobs with this name.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" error-match' -l 'error-match' -d 'Only jobs whose failure reason matches this regular expression.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" since' -l 'since' -d 'Only jobs that finished at or after this time: 2h (ago), 2026-11-23T10:00Z, epoch ms.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" before' -l 'before' -d 'Only jobs that finished before this time (same forms as --since).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" limit' -l 'limit' -d 'At most this many jobs.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" reset-attempts' -l 'reset-attempts' -d 'Also reset the jobs\' attempt counters, so that each gets all its attempts again.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl retry" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" dry-run' -l 'dry-run' -d 'Show what would change (count, breakdown by job name and error, sample ids) and change nothing.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" y yes' -s 'y' -l 'yes' -d 'Go ahead without asking (required when stdin is not a terminal).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" delayed' -l 'delayed' -d 'Delete the delayed jobs too.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl drain" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" dry-run' -l 'dry-run' -d 'Show what would change (count, breakdown by job name and error, sample ids) and change nothing.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" y yes' -s 'y' -l 'yes' -d 'Go ahead without asking (required when stdin is not a terminal).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" completed' -l 'completed' -d 'Delete completed jobs.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" failed' -l 'failed' -d 'Delete failed jobs.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" older-than' -l 'older-than' -d 'Only jobs that finished longer ago than this, e.g. 24h or 7d.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" limit' -l 'limit' -d 'At most this many jobs (the oldest first, per state).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl clean" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" dry-run' -l 'dry-run' -d 'Show what would change (count, breakdown by job name and error, sample ids) and change nothing.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" y yes' -s 'y' -l 'yes' -d 'Go ahead without asking (required when stdin is not a terminal).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" limit' -l 'limit' -d 'At most this many jobs.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl promote" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" dry-run' -l 'dry-run' -d 'Show what would change (count, breakdown by job name and error, sample ids) and change nothing.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" y yes' -s 'y' -l 'yes' -d 'Go ahead without asking (required when stdin is not a terminal).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" all' -l 'all' -d 'Every queue.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl pause" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" dry-run' -l 'dry-run' -d 'Show what would change (count, breakdown by job name and error, sample ids) and change nothing.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" y yes' -s 'y' -l 'yes' -d 'Go ahead without asking (required when stdin is not a terminal).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" all' -l 'all' -d 'Every queue.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl resume" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" dry-run' -l 'dry-run' -d 'Show what would change (count, breakdown by job name and error, sample ids) and change nothing.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" y yes' -s 'y' -l 'yes' -d 'Go ahead without asking (required when stdin is not a terminal).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" force' -l 'force' -d 'Remove jobs even when a worker holds their lock.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl remove" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" dry-run' -l 'dry-run' -d 'Show what would change (count, breakdown by job name and error, sample ids) and change nothing.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" y yes' -s 'y' -l 'yes' -d 'Go ahead without asking (required when stdin is not a terminal).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" data' -l 'data' -d 'The job\'s data, as JSON.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" delay' -l 'delay' -d 'Run it no earlier than this from now, e.g. 30s.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" priority' -l 'priority' -d 'Priority: 1 (highest) to 2097152; 0 or none is plain FIFO, before any prioritized job.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" attempts' -l 'attempts' -d 'Attempts in all before the job fails for good.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" backoff' -l 'backoff' -d 'Wait between attempts: 1000 (ms), fixed:5s or exponential:1s.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" job-id' -l 'job-id' -d 'A job id of your own; a job with this id that already exists is left as it is.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" lifo' -l 'lifo' -d 'Last in, first out: workers take this job before the waiting ones.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" from' -l 'from' -d 'Add the jobs of a JSON Lines file (\'-\' reads stdin).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl add" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once"' -l 'exec' -d 'Run this command per job, no shell; it takes the rest of the line, so put it last.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once"' -l 'serve' -d 'Feed jobs to long-lived handler processes of this command, one JSON line each (see the protocol below); it takes the rest of the line, so put it last.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" noop' -l 'noop' -d 'Complete every job at once without running anything (for benchmarks and smoke tests).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" concurrency' -l 'concurrency' -d 'Jobs run at the same time.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" job-timeout' -l 'job-timeout' -d 'Kill a job\'s process group and fail the job after this long, e.g. 5m.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" lock-duration' -l 'lock-duration' -d 'How long a job\'s lock lasts unless renewed (BullMQ\'s lockDuration).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" lock-renew' -l 'lock-renew' -d 'Renew the locks of running jobs this often (default: half the lock duration).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" limiter' -l 'limiter' -d 'This worker starts at most MAX jobs per DURATION, e.g. 100/1s.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" metrics' -l 'metrics' -d 'Record BullMQ\'s per-minute metrics of completed and failed jobs, keeping this many points (BullMQ\'s metrics.maxDataPoints).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" name' -l 'name' -d 'The worker\'s name, under which BullMQ\'s tools and \'jobctl workers\' list it. (env: JOBCTL_WORKER_NAME; default: jobctl-HOST-PID)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" max-jobs' -l 'max-jobs' -d 'Stop after this many jobs.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" max-runtime' -l 'max-runtime' -d 'Take no new job after this long, e.g. 50s.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run-once" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run"' -l 'exec' -d 'Run this command per job, no shell; it takes the rest of the line, so put it last.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run"' -l 'serve' -d 'Feed jobs to long-lived handler processes of this command, one JSON line each (see the protocol below); it takes the rest of the line, so put it last.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" noop' -l 'noop' -d 'Complete every job at once without running anything (for benchmarks and smoke tests).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" concurrency' -l 'concurrency' -d 'Jobs run at the same time.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" job-timeout' -l 'job-timeout' -d 'Kill a job\'s process group and fail the job after this long, e.g. 5m.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" lock-duration' -l 'lock-duration' -d 'How long a job\'s lock lasts unless renewed (BullMQ\'s lockDuration).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" lock-renew' -l 'lock-renew' -d 'Renew the locks of running jobs this often (default: half the lock duration).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" limiter' -l 'limiter' -d 'This worker starts at most MAX jobs per DURATION, e.g. 100/1s.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" metrics' -l 'metrics' -d 'Record BullMQ\'s per-minute metrics of completed and failed jobs, keeping this many points (BullMQ\'s metrics.maxDataPoints).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" name' -l 'name' -d 'The worker\'s name, under which BullMQ\'s tools and \'jobctl workers\' list it. (env: JOBCTL_WORKER_NAME; default: jobctl-HOST-PID)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" grace' -l 'grace' -d 'After a stop signal, how long running jobs may take to finish.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" stalled-interval' -l 'stalled-interval' -d 'How often to look for jobs whose worker died (BullMQ\'s stalledInterval).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" max-stalled-count' -l 'max-stalled-count' -d 'How often a job may stall before it fails (BullMQ\'s maxStalledCount).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" progress' -l 'progress' -d 'How often to print a progress line on stderr (0 for never).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" listen-url' -l 'listen-url' -d 'PostgreSQL: a direct or session-mode URL used only to LISTEN for new work, when --url goes through a transaction pooler. (env: JOBCTL_LISTEN_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" url' -l 'url' -d 'Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: JOBCTL_URL, REDIS_URL, DATABASE_URL)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" prefix' -l 'prefix' -d 'BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" schema' -l 'schema' -d 'BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)' -rfka 'text json jsonl prometheus'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" json' -l 'json' -d 'Same as --output json.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" connect-timeout' -l 'connect-timeout' -d 'How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" timeout' -l 'timeout' -d 'How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" dry-run' -l 'dry-run' -d 'Show what would change (count, breakdown by job name and error, sample ids) and change nothing.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" y yes' -s 'y' -l 'yes' -d 'Go ahead without asking (required when stdin is not a terminal).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" cpu-bound' -l 'cpu-bound' -d 'The jobs use CPU the whole time: concurrency is capped at --cores.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" io-bound' -l 'io-bound' -d 'The jobs mostly wait on I/O: concurrency is not capped by cores.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" cores' -l 'cores' -d 'Cores of a worker machine (default: this machine\'s).' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" sample' -l 'sample' -d 'How many of the most recent completed and of failed jobs to sample.' -rfka ''
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" apply' -l 'apply' -d 'Write the global concurrency and rate limit recommended (after confirmation).'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" version' -l 'version' -d 'Show the version.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl tune" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'jobctl' -n '__jobctl_should_offer_completions_for_flags_or_options "jobctl help" version' -l 'version' -d 'Show the version.'
