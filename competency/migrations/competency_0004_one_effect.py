"""one effect per intent: one valid certificate per attainment, a record corrected once

Revision ID: competency_0004
Revises: competency_0003
Create Date: 2026-12-03 18:06:42.283980

Existing duplicates are first put right so the unique indexes can be built on real data:
extra valid certificates of one attainment (all but the first) are revoked with a reason, and
extra corrections of one sign-off are re-chained so each corrects the latest record before it
(the history is kept; the latest record still wins).
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa

import lms.core.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'competency_0004'
down_revision = 'competency_0003'
branch_labels = None
depends_on = None

DUPLICATE_REASON = "duplicate certificate: an attainment has one valid certificate"


def _revoke_duplicate_certificates(conn):
    certs = sa.table("competency_certificates", sa.column("id", sa.Integer), sa.column("attainment_id", sa.Integer),
                     sa.column("revoked_at", lms.core.db.UTCDateTime()),
                     sa.column("revocation_reason", sa.String(300)))
    keep = certs.alias("keep")
    conn.execute(certs.update()
                 .where(certs.c.revoked_at.is_(None),
                        sa.exists().where(keep.c.attainment_id == certs.c.attainment_id,
                                          keep.c.revoked_at.is_(None), keep.c.id < certs.c.id))
                 .values(revoked_at=dt.datetime.now(dt.timezone.utc), revocation_reason=DUPLICATE_REASON))


def _rechain_duplicate_corrections(conn):
    signoffs = sa.table("competency_signoffs", sa.column("id", sa.Integer), sa.column("corrects_id", sa.Integer))
    latest = {}  # corrected record id -> the record correcting it
    rows = conn.execute(sa.select(signoffs.c.id, signoffs.c.corrects_id)
                        .where(signoffs.c.corrects_id.is_not(None)).order_by(signoffs.c.id)).all()
    for row_id, corrects_id in rows:
        target = corrects_id
        while target in latest:  # corrections are newer than what they correct: follow to the latest
            target = latest[target]
        if target != corrects_id:
            conn.execute(signoffs.update().where(signoffs.c.id == row_id).values(corrects_id=target))
        latest[target] = row_id


def upgrade():
    conn = op.get_bind()
    _revoke_duplicate_certificates(conn)
    _rechain_duplicate_corrections(conn)
    with op.batch_alter_table('competency_certificates', schema=None) as batch_op:
        batch_op.create_index('uq_competency_certificates_valid_attainment', ['attainment_id'], unique=True,
                              postgresql_where=sa.text('revoked_at IS NULL'),
                              sqlite_where=sa.text('revoked_at IS NULL'))

    with op.batch_alter_table('competency_signoffs', schema=None) as batch_op:
        batch_op.create_index('uq_competency_signoffs_corrects_id', ['corrects_id'], unique=True,
                              postgresql_where=sa.text('corrects_id IS NOT NULL'),
                              sqlite_where=sa.text('corrects_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('competency_signoffs', schema=None) as batch_op:
        batch_op.drop_index('uq_competency_signoffs_corrects_id')

    with op.batch_alter_table('competency_certificates', schema=None) as batch_op:
        batch_op.drop_index('uq_competency_certificates_valid_attainment')
