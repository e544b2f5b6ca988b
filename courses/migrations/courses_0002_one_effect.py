"""one effect per intent: one hand-in awaiting its grade per learner and task

Revision ID: courses_0002
Revises: courses_0001
Create Date: 2026-12-03 18:08:00

Before the unique index is built, any older hand-ins of the same enrolment and task that still
wait for a grade beside a newer one (only possible from past races) are closed without a score
or verdict, with a comment saying so; the newest one keeps waiting for its grade.
"""
from alembic import op
import sqlalchemy as sa

import lms.core.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'courses_0002'
down_revision = 'courses_0001'
branch_labels = None
depends_on = None

SUPERSEDED = "Superseded by a later hand-in of the same task (closed without a grade)."


def upgrade():
    subs = sa.table("courses_submissions", sa.column("id", sa.Integer), sa.column("enrolment_id", sa.Integer),
                    sa.column("lesson_id", sa.Integer), sa.column("status", sa.String(20)),
                    sa.column("comment", sa.Text))
    newer = subs.alias("newer")
    op.get_bind().execute(
        subs.update()
        .where(subs.c.status == "submitted",
               sa.exists().where(newer.c.enrolment_id == subs.c.enrolment_id, newer.c.lesson_id == subs.c.lesson_id,
                                 newer.c.status == "submitted", newer.c.id > subs.c.id))
        .values(status="graded", comment=SUPERSEDED))
    with op.batch_alter_table('courses_submissions', schema=None) as batch_op:
        batch_op.create_index('uq_courses_submissions_awaiting_grade', ['enrolment_id', 'lesson_id'], unique=True,
                              postgresql_where=sa.text("status = 'submitted'"),
                              sqlite_where=sa.text("status = 'submitted'"))


def downgrade():
    with op.batch_alter_table('courses_submissions', schema=None) as batch_op:
        batch_op.drop_index('uq_courses_submissions_awaiting_grade')
