#!/bin/bash

__jobctl_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__jobctl_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__jobctl_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__jobctl_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_jobctl() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __jobctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    status|stats|workers|jobs|show|retry|drain|clean|promote|pause|resume|remove|add|schedulers|schedule|unschedule|run-once|run|tune|trail|help)
        # Offer subcommand argument completions
        "_jobctl_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'status stats workers jobs show retry drain clean promote pause resume remove add schedulers schedule unschedule run-once run tune trail help' -- "${cur}"))
        ;;
    esac
}

_jobctl_status() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --check -w --watch)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--check')
        return
        ;;
    '-w'|'--watch')
        return
        ;;
    esac
}

_jobctl_stats() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --sample --thresholds -w --watch)
    __jobctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--sample')
        return
        ;;
    '--thresholds')
        return
        ;;
    '-w'|'--watch')
        return
        ;;
    esac
}

_jobctl_workers() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    esac
}

_jobctl_jobs() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --state --limit --cursor)
    __jobctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--state')
        return
        ;;
    '--limit')
        return
        ;;
    '--cursor')
        return
        ;;
    esac
}

_jobctl_show() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key)
    __jobctl_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    esac
}

_jobctl_retry() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --failed --all-queues --reset-attempts --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor --state --name --error-match --since --before --limit)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    '--state')
        return
        ;;
    '--name')
        return
        ;;
    '--error-match')
        return
        ;;
    '--since')
        return
        ;;
    '--before')
        return
        ;;
    '--limit')
        return
        ;;
    esac
}

_jobctl_drain() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --delayed --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor)
    __jobctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    esac
}

_jobctl_clean() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --completed --failed --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor --older-than --limit)
    __jobctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    '--older-than')
        return
        ;;
    '--limit')
        return
        ;;
    esac
}

_jobctl_promote() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor --limit)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    '--limit')
        return
        ;;
    esac
}

_jobctl_pause() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --all --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    esac
}

_jobctl_resume() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --all --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    esac
}

_jobctl_remove() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --force --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    esac
}

_jobctl_add() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --lifo --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor --data --delay --priority --attempts --backoff --job-id --from)
    __jobctl_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    '--data')
        return
        ;;
    '--delay')
        return
        ;;
    '--priority')
        return
        ;;
    '--attempts')
        return
        ;;
    '--backoff')
        return
        ;;
    '--job-id')
        return
        ;;
    '--from')
        return
        ;;
    esac
}

_jobctl_schedulers() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --grace)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--grace')
        return
        ;;
    esac
}

_jobctl_schedule() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --run-now --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor --every --cron --tz --name --data --opts --limit --start --end --offset)
    __jobctl_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    '--every')
        return
        ;;
    '--cron')
        return
        ;;
    '--tz')
        return
        ;;
    '--name')
        return
        ;;
    '--data')
        return
        ;;
    '--opts')
        return
        ;;
    '--limit')
        return
        ;;
    '--start')
        return
        ;;
    '--end')
        return
        ;;
    '--offset')
        return
        ;;
    esac
}

_jobctl_unschedule() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    esac
}

_jobctl_run-once() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --noop --version -h --help)
    repeating_options=(--exec --serve)
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --concurrency --job-timeout --lock-duration --lock-renew --limiter --metrics --name --breaker --max-jobs --max-runtime)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--exec')
        return
        ;;
    '--serve')
        return
        ;;
    '--concurrency')
        return
        ;;
    '--job-timeout')
        return
        ;;
    '--lock-duration')
        return
        ;;
    '--lock-renew')
        return
        ;;
    '--limiter')
        return
        ;;
    '--metrics')
        return
        ;;
    '--name')
        return
        ;;
    '--breaker')
        return
        ;;
    '--max-jobs')
        return
        ;;
    '--max-runtime')
        return
        ;;
    esac
}

_jobctl_run() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --noop --version -h --help)
    repeating_options=(--exec --serve)
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --concurrency --job-timeout --lock-duration --lock-renew --limiter --metrics --name --breaker --grace --stalled-interval --max-stalled-count --progress --listen-url)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--exec')
        return
        ;;
    '--serve')
        return
        ;;
    '--concurrency')
        return
        ;;
    '--job-timeout')
        return
        ;;
    '--lock-duration')
        return
        ;;
    '--lock-renew')
        return
        ;;
    '--limiter')
        return
        ;;
    '--metrics')
        return
        ;;
    '--name')
        return
        ;;
    '--breaker')
        return
        ;;
    '--grace')
        return
        ;;
    '--stalled-interval')
        return
        ;;
    '--max-stalled-count')
        return
        ;;
    '--progress')
        return
        ;;
    '--listen-url')
        return
        ;;
    esac
}

_jobctl_tune() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --dry-run -y --yes --cpu-bound --io-bound --apply --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --reason --actor --cores --sample)
    __jobctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--reason')
        return
        ;;
    '--actor')
        return
        ;;
    '--cores')
        return
        ;;
    '--sample')
        return
        ;;
    esac
}

_jobctl_trail() {
    repeating_flags=()
    non_repeating_flags=(--json --tls-insecure --version -h --help)
    repeating_options=()
    non_repeating_options=(--url --prefix --schema -o --output --connect-timeout --timeout --tls-ca --tls-cert --tls-key --since --limit)
    __jobctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--prefix')
        return
        ;;
    '--schema')
        return
        ;;
    '-o'|'--output')
        __jobctl_add_completions -W 'text'$'\n''json'$'\n''jsonl'$'\n''prometheus'
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--tls-ca')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--since')
        return
        ;;
    '--limit')
        return
        ;;
    esac
}

_jobctl_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __jobctl_offer_flags_options -1
}

complete -o filenames -F _jobctl jobctl
